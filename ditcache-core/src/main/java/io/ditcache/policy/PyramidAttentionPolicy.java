package io.ditcache.policy;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockPart;
import io.ditcache.CachePolicy;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * PAB (pyramid attention broadcast): inside the window of normalised steps {@code u = i / (steps - 1)} in
 * {@code [start, end]}, attention outputs are reused and recomputed every {@code interval}-th step counted from the
 * window's first step, with a range per kind of attention as PAB's pyramid has it (diffusers'
 * {@code PyramidAttentionBroadcastConfig}): self-attention ({@link BlockPart#SELF_ATTENTION} and the joint
 * attention's {@link BlockPart#CONTEXT_ATTENTION}) every {@code interval}-th step, the self-attention of
 * {@link BlockGroup#TEMPORAL} blocks every {@code temporalInterval}-th and cross-attention
 * ({@link BlockPart#CROSS_ATTENTION}) every {@code crossInterval}-th. A kind whose interval is -1 is never reused.
 * Feed-forwards always run; outside the window everything computes. Stateless.
 */
public final class PyramidAttentionPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "pab";

    private final int interval;
    private final double start;
    private final double end;
    private final int temporalInterval;
    private final int crossInterval;

    /**
     * @param interval         self-attention is computed every {@code interval}-th step of the window,
     *                         {@code >= 1} (no default in {@link Policies}); 1 computes everything
     * @param start            window start on the normalised step axis, in {@code [0, 1]} (default: 0.1)
     * @param end              window end (inclusive), in {@code [start, 1]} (default: 0.9)
     * @param temporalInterval the same for temporal blocks' self-attention, {@code >= 1}, or -1: never reused
     *                         (default: -1)
     * @param crossInterval    the same for cross-attention, {@code >= 1}, or -1: never reused (default: -1)
     */
    public PyramidAttentionPolicy(int interval, double start, double end, int temporalInterval, int crossInterval) {
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
        this.start = ParameterChecks.inRange(NAME, "start", start, 0, 1);
        this.end = ParameterChecks.inRange(NAME, "end", end, start, 1);
        this.temporalInterval = ParameterChecks.atLeastOrNone(NAME, "temporalInterval", temporalInterval, 1,
                "never reused");
        this.crossInterval = ParameterChecks.atLeastOrNone(NAME, "crossInterval", crossInterval, 1, "never reused");
    }

    /** Self-attention only. */
    public PyramidAttentionPolicy(int interval, double start, double end) {
        this(interval, start, end, -1, -1);
    }

    /** The default window {@code [0.1, 0.9]}, self-attention only. */
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
        int offset = step - first;
        Block block = query.block();
        boolean temporal = block.group().equals(BlockGroup.TEMPORAL);
        Set<BlockPart> reused = EnumSet.noneOf(BlockPart.class);
        if (reuses(temporal ? temporalInterval : interval, offset)) {
            reused.add(BlockPart.SELF_ATTENTION);
            reused.add(BlockPart.CONTEXT_ATTENTION);
        }
        if (reuses(crossInterval, offset)) {
            reused.add(BlockPart.CROSS_ATTENTION);
        }
        return Decision.reuse(reused).on(block);
    }

    private static boolean reuses(int interval, int offset) {
        return interval > 0 && offset % interval != 0;
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
        return Policies.description(NAME, "interval", interval, "start", start, "end", end, "temporalInterval",
                temporalInterval, "crossInterval", crossInterval);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
