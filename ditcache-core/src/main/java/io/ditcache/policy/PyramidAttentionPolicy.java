package io.ditcache.policy;

import io.ditcache.CachePolicy;
import java.util.Map;

/**
 * PAB (pyramid attention broadcast) for self-attention: inside the window of normalised steps
 * {@code u = i / (steps - 1)} in {@code [start, end]}, every block reuses its attention output
 * ({@link Decision#REUSE_ATTENTION}) except every {@code interval}-th step counted from the window's first step,
 * which computes. The feed-forward always runs; outside the window everything computes. Stateless.
 */
public final class PyramidAttentionPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "pab";

    private final int interval;
    private final double start;
    private final double end;

    /**
     * @param interval attention is computed every {@code interval}-th step of the window, {@code >= 1} (no
     *                 default in {@link Policies}); 1 computes everything
     * @param start    window start on the normalised step axis, in {@code [0, 1]} (default: 0.1)
     * @param end      window end (inclusive), in {@code [start, 1]} (default: 0.9)
     */
    public PyramidAttentionPolicy(int interval, double start, double end) {
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
        this.start = ParameterChecks.inRange(NAME, "start", start, 0, 1);
        this.end = ParameterChecks.inRange(NAME, "end", end, start, 1);
    }

    /** The default window {@code [0.1, 0.9]}. */
    public PyramidAttentionPolicy(int interval) {
        this(interval, 0.1, 0.9);
    }

    @Override
    public Decision decide(Query query) {
        int step = query.step();
        double u = u(step, query.steps());
        if (u < start || u > end) {
            return Decision.COMPUTE;
        }
        int first = 0;
        while (u(first, query.steps()) < start) {
            first++; // ends at or before step, which is in the window
        }
        return (step - first) % interval == 0 ? Decision.COMPUTE : Decision.REUSE_ATTENTION;
    }

    private static double u(int step, int steps) {
        return steps == 1 ? 0.0 : (double) step / (steps - 1);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "interval", interval, "start", start, "end", end);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
