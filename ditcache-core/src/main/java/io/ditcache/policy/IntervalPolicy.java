package io.ditcache.policy;

import io.ditcache.CachePolicy;
import java.util.Map;

/**
 * FORA: every block's attention and feed-forward outputs are recomputed every {@code interval} steps (step
 * {@code i} computes when {@code i % interval == 0}) and reused in between, where only the block's norms and
 * gates run ({@link Decision#REUSE_ATTENTION_AND_MLP}). Stateless.
 */
public final class IntervalPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "fora";

    private final int interval;

    /**
     * @param interval recompute every {@code interval} steps, {@code >= 1} (no default in {@link Policies}); 1
     *                 computes everything
     */
    public IntervalPolicy(int interval) {
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
    }

    public int interval() {
        return interval;
    }

    @Override
    public Decision decide(Query query) {
        return query.step() % interval == 0 ? Decision.COMPUTE : Decision.REUSE_ATTENTION_AND_MLP;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "interval", interval);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
