package io.ditcache;

/** Per-row quantities a model measures for a {@link CachePolicy} while it samples. */
public enum CacheSignal {
    /**
     * {@code sum|m_i - m_{i-1}| / sum|m_{i-1}|} of block 0's normalised, timestep-modulated input {@code m}
     * between this step and the previous one (TeaCache's signal). Measured from step 1 on, whatever was reused.
     */
    MODULATED_INPUT_CHANGE,
    /**
     * {@code sum|r_i - r_k| / sum|r_k|} of the residual of the first {@link CachePolicy#firstBlocks()} blocks
     * ({@code r} = their output minus the model's first hidden state) between this step and step {@code k}, the
     * last step at which this row computed the block after them (FBCache's and DBCache's signal).
     */
    FIRST_BLOCKS_RESIDUAL_CHANGE
}
