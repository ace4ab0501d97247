package io.ditcache.policy;

import io.ditcache.CachePolicy;
import io.ditcache.SignalRequest;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * FBCache (first-block cache): block 0 always computes; every later block is skipped
 * ({@link Decision#REUSE_BLOCK}) when the {@link io.ditcache.CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE} of block 0
 * this row measured at this step is below {@code threshold}, and computes otherwise, at step 0, or when the row measured nothing at this step (no
 * reference yet) or a non-finite value. The signal's reference is the last step at which the row computed block
 * 1, so a run of skipped steps compares against the same reference and the change accumulates.
 */
public final class FirstBlockResidualPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "fbcache";

    /** What the policy measures: the residual change of block 0. */
    private static final SignalRequest SIGNAL = SignalRequest.firstBlocksResidual(0);

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
    public Set<SignalRequest> signals() {
        return Set.of(SIGNAL);
    }

    @Override
    public void observe(SignalRequest signal, Query query, double value) {
        if (signal.equals(SIGNAL)) {
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
        return reuse ? Decision.REUSE_BLOCK : Decision.COMPUTE;
    }

    @Override
    public void reset() {
        observed.clear();
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
        return Policies.description(NAME, "threshold", threshold);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
