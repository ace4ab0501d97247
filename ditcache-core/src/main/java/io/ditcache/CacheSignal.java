package io.ditcache;

/**
 * Per-row quantities a cache runtime measures for a {@link CachePolicy} while it samples, each at the block a
 * {@link SignalRequest} names.
 */
public enum CacheSignal {
    /**
     * {@code sum|m_i - m_{i-1}| / sum|m_{i-1}|} of the block's normalised, timestep-modulated input {@code m}
     * between this step and the previous one (TeaCache's signal, usually at block 0). Measured from step 1 on,
     * before the block decides, whatever was reused.
     */
    MODULATED_INPUT_CHANGE,
    /**
     * {@code sum|r_i - r_k| / sum|r_k|} of the combined residual of blocks {@code 0 .. b} ({@code r} = block
     * {@code b}'s output minus the first block's input, per stream) between this step and step {@code k}, the last
     * step at which this row computed block {@code b+1} (block {@code b} itself when it is the last) (FBCache's and
     * DBCache's signal). Measured after block {@code b}, before block {@code b+1} decides.
     */
    FIRST_BLOCKS_RESIDUAL_CHANGE
}
