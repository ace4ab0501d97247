package io.ditcache.policy;

import io.ditcache.CacheSignal;
import io.ditcache.CachePolicy;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * FBCache (first-block cache): block 0 always computes; every later block is skipped ({@link Decision#REUSE})
 * when the {@link CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE} this row measured at this step is below
 * {@code threshold}, and computes otherwise, at step 0, or when the row measured nothing at this step (no
 * reference yet) or a non-finite value. The signal's reference is the last step at which the row computed block
 * 1, so a run of skipped steps compares against the same reference and the change accumulates.
 */
public final class FirstBlockResidualPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "fbcache";

    private final double threshold;
    /** Per row: the last observed signal. */
    private final Map<Row, Observed> observed = new HashMap<>();

    private record Observed(int step, double value) {
    }

    /**
     * @param threshold skip when the first block's relative L1 residual change is below this, a finite number
     *                  {@code >= 0} (no default in {@link Policies}); 0 computes everything
     */
    public FirstBlockResidualPolicy(double threshold) {
        this.threshold = ParameterChecks.nonNegative(NAME, "threshold", threshold);
    }

    public double threshold() {
        return threshold;
    }

    @Override
    public Set<CacheSignal> signals() {
        return Set.of(CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE);
    }

    @Override
    public int firstBlocks() {
        return 1;
    }

    @Override
    public void observe(CacheSignal signal, Query query, double value) {
        if (signal == CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE) {
            observed.put(Row.of(query), new Observed(query.step(), value));
        }
    }

    @Override
    public Decision decide(Query query) {
        if (query.layer() < 1 || query.step() == 0) {
            return Decision.COMPUTE;
        }
        Observed o = observed.get(Row.of(query));
        boolean reuse = o != null && o.step() == query.step() && o.value() < threshold;
        return reuse ? Decision.REUSE : Decision.COMPUTE;
    }

    @Override
    public void reset() {
        observed.clear();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "threshold", threshold);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
