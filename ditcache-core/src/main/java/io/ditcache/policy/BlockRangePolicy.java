package io.ditcache.policy;

import io.ditcache.CachePolicy;
import java.util.Map;
import java.util.Set;

/**
 * Δ-DiT: the blocks {@code [firstBlock, endBlock)} are skipped ({@link Decision#REUSE_BLOCK}: input plus cached
 * residual, which over a contiguous range adds up to the range's cached deviation) except every
 * {@code interval}-th step, counted from {@code fromStep}; outside the step window {@code [fromStep, toStep)}
 * and outside the block range everything computes. Δ-DiT's "rear blocks early, front blocks late" is two such
 * windows; one policy is one window. Stateless.
 */
public final class BlockRangePolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "delta-dit";

    private final int firstBlock;
    private final int endBlock;
    private final int interval;
    private final int fromStep;
    private final int toStep;

    /**
     * @param firstBlock first cached block, {@code >= 0} (default in {@link Policies}: 0)
     * @param endBlock   one past the last cached block, {@code > firstBlock}, or -1 for the model's last block
     *                   (default: -1); blocks beyond the model are ignored
     * @param interval   the range is computed every {@code interval}-th step of the window, {@code >= 1} (no
     *                   default); 1 computes everything
     * @param fromStep   first step of the window, {@code >= 0} (default: 0)
     * @param toStep     one past the last step of the window, {@code > fromStep}, or -1 for the run's end
     *                   (default: -1)
     */
    public BlockRangePolicy(int firstBlock, int endBlock, int interval, int fromStep, int toStep) {
        this.firstBlock = ParameterChecks.atLeast(NAME, "firstBlock", firstBlock, 0);
        this.endBlock = ParameterChecks.atLeastOrNone(NAME, "endBlock", endBlock, firstBlock + 1,
                "through the last block");
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
        this.fromStep = ParameterChecks.atLeast(NAME, "fromStep", fromStep, 0);
        this.toStep = ParameterChecks.atLeastOrNone(NAME, "toStep", toStep, fromStep + 1, "to the run's end");
    }

    /** The block range over the whole run: {@code fromStep} 0, {@code toStep} -1. */
    public BlockRangePolicy(int firstBlock, int endBlock, int interval) {
        this(firstBlock, endBlock, interval, 0, -1);
    }

    @Override
    public Decision decide(Query query) {
        int end = endBlock < 0 ? query.layers() : endBlock;
        int to = toStep < 0 ? query.steps() : toStep;
        int step = query.step();
        if (query.layer() < firstBlock || query.layer() >= end || step < fromStep || step >= to) {
            return Decision.COMPUTE;
        }
        return (step - fromStep) % interval == 0 ? Decision.COMPUTE : Decision.REUSE_BLOCK;
    }

    /** Whole blocks only: no part slots are kept. */
    @Override
    public Set<Decision> decisions() {
        return Policies.BLOCK_REUSE;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "firstBlock", firstBlock, "endBlock", endBlock, "interval", interval,
                "fromStep", fromStep, "toStep", toStep);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
