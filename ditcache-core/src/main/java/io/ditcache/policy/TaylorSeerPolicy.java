package io.ditcache.policy;

import io.ditcache.Approximation;
import io.ditcache.CachePolicy;
import java.util.Map;
import java.util.Set;

/**
 * TaylorSeer: the first {@code warmupSteps} steps compute (they fill the history the extrapolation needs), then
 * every block computes every {@code interval}-th step counted from the end of the warm-up and is skipped
 * ({@link Decision#REUSE_BLOCK}) in between, its cached value extrapolated by a Taylor expansion of order 1 or 2
 * ({@link #approximation()}). Stateless.
 */
public final class TaylorSeerPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "taylorseer";

    private final int interval;
    private final int warmupSteps;
    private final Approximation approximation;

    /**
     * @param interval    compute every {@code interval}-th step after the warm-up, {@code >= 1} (no default in
     *                    {@link Policies}); 1 computes everything
     * @param warmupSteps leading steps that always compute, {@code >= 0} (default: 3)
     * @param order       Taylor order, 1 or 2 (default: 2)
     */
    public TaylorSeerPolicy(int interval, int warmupSteps, int order) {
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
        this.warmupSteps = ParameterChecks.atLeast(NAME, "warmupSteps", warmupSteps, 0);
        this.approximation = Approximation.taylor(ParameterChecks.inRange(NAME, "order", order, 1, 2));
    }

    /** Warm-up 3 steps, order 2. */
    public TaylorSeerPolicy(int interval) {
        this(interval, 3, 2);
    }

    @Override
    public Decision decide(Query query) {
        int step = query.step();
        return step < warmupSteps || (step - warmupSteps) % interval == 0 ? Decision.COMPUTE : Decision.REUSE_BLOCK;
    }

    @Override
    public Approximation approximation() {
        return approximation;
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
        return Policies.description(NAME, "interval", interval, "warmupSteps", warmupSteps, "order",
                approximation.order());
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
