package io.ditcache;

import java.util.Objects;

/**
 * A signal a policy wants measured, keyed by the block it is measured at.
 *
 * @param kind  what is measured
 * @param block the block: whose modulated input ({@link CacheSignal#MODULATED_INPUT_CHANGE}), or the last of the
 *              leading blocks {@code 0 .. block} whose combined residual
 *              ({@link CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE})
 */
public record SignalRequest(CacheSignal kind, int block) {
    public SignalRequest {
        Objects.requireNonNull(kind, "kind");
        if (block < 0) {
            throw new IllegalArgumentException("signal " + kind + ": block " + block + ", expected >= 0");
        }
    }

    /** TeaCache's signal: the change of block {@code block}'s modulated input. */
    public static SignalRequest modulatedInput(int block) {
        return new SignalRequest(CacheSignal.MODULATED_INPUT_CHANGE, block);
    }

    /** FBCache's and DBCache's signal: the change of the combined residual of blocks {@code 0 .. lastBlock}. */
    public static SignalRequest firstBlocksResidual(int lastBlock) {
        return new SignalRequest(CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE, lastBlock);
    }
}
