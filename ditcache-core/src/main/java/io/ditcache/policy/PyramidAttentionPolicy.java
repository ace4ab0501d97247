package io.ditcache.policy;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockPart;
import io.ditcache.CachePolicy;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * PAB (pyramid attention broadcast): inside a window of normalised steps {@code u = i / (steps - 1)}, attention
 * outputs are reused and recomputed every n-th step counted from the window's first step, with a skip range and a
 * window per kind of attention as PAB's pyramid has it (diffusers' {@code PyramidAttentionBroadcastConfig}'s
 * {@code *_block_skip_range} and {@code *_timestep_skip_range}): self-attention ({@link BlockPart#SELF_ATTENTION}
 * and the joint attention's {@link BlockPart#CONTEXT_ATTENTION}) every {@code interval}-th step of
 * {@code [start, end]}, the self-attention of {@link BlockGroup#TEMPORAL} blocks every {@code temporalInterval}-th
 * step of {@code [temporalStart, temporalEnd]} and cross-attention ({@link BlockPart#CROSS_ATTENTION}) every
 * {@code crossInterval}-th step of {@code [crossStart, crossEnd]} (both windows default to {@code [start, end]}). A
 * kind whose interval is -1 is never reused. Feed-forwards always run; outside its window a kind computes.
 * Stateless.
 */
public final class PyramidAttentionPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "pab";

    private final int interval;
    private final double start;
    private final double end;
    private final int temporalInterval;
    private final int crossInterval;
    private final double temporalStart;
    private final double temporalEnd;
    private final double crossStart;
    private final double crossEnd;

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
        this(interval, start, end, temporalInterval, start, end, crossInterval, start, end);
    }

    /**
     * Each kind of attention with its own window, as diffusers' separate timestep skip ranges.
     *
     * @param temporalStart start of the temporal self-attention's window, in {@code [0, 1]}
     * @param temporalEnd   its end (inclusive), in {@code [temporalStart, 1]}
     * @param crossStart    start of the cross-attention's window, in {@code [0, 1]}
     * @param crossEnd      its end (inclusive), in {@code [crossStart, 1]}
     */
    public PyramidAttentionPolicy(int interval, double start, double end, int temporalInterval, double temporalStart,
            double temporalEnd, int crossInterval, double crossStart, double crossEnd) {
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
        this.start = ParameterChecks.inRange(NAME, "start", start, 0, 1);
        this.end = ParameterChecks.inRange(NAME, "end", end, start, 1);
        this.temporalInterval = ParameterChecks.atLeastOrNone(NAME, "temporalInterval", temporalInterval, 1,
                "never reused");
        this.crossInterval = ParameterChecks.atLeastOrNone(NAME, "crossInterval", crossInterval, 1, "never reused");
        this.temporalStart = ParameterChecks.inRange(NAME, "temporalStart", temporalStart, 0, 1);
        this.temporalEnd = ParameterChecks.inRange(NAME, "temporalEnd", temporalEnd, temporalStart, 1);
        this.crossStart = ParameterChecks.inRange(NAME, "crossStart", crossStart, 0, 1);
        this.crossEnd = ParameterChecks.inRange(NAME, "crossEnd", crossEnd, crossStart, 1);
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
        int steps = query.steps();
        Block block = query.block();
        boolean temporal = block.group().equals(BlockGroup.TEMPORAL);
        Set<BlockPart> reused = EnumSet.noneOf(BlockPart.class);
        if (temporal ? reuses(temporalInterval, temporalStart, temporalEnd, step, steps)
                : reuses(interval, start, end, step, steps)) {
            reused.add(BlockPart.SELF_ATTENTION);
            reused.add(BlockPart.CONTEXT_ATTENTION);
        }
        if (reuses(crossInterval, crossStart, crossEnd, step, steps)) {
            reused.add(BlockPart.CROSS_ATTENTION);
        }
        return reused.isEmpty() ? Decision.COMPUTE : Decision.reuse(reused).on(block);
    }

    /** Whether a kind with {@code interval} and window {@code [from, to]} reuses at {@code step}. */
    private static boolean reuses(int interval, double from, double to, int step, int steps) {
        double u = u(step, steps);
        if (interval <= 0 || u < from || u > to) {
            return false;
        }
        int first = 0;
        while (u(first, steps) < from) {
            first++; // ends at or before step, which is in the window
        }
        return (step - first) % interval != 0;
    }

    private static double u(int step, int steps) {
        return steps == 1 ? 0.0 : (double) step / (steps - 1);
    }

    /** Attention parts only: no residual or feed-forward slots are kept. */
    @Override
    public Set<Decision> decisions() {
        return Set.of(Decision.COMPUTE, Decision.reuse(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION,
                BlockPart.CROSS_ATTENTION));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "interval", interval, "start", start, "end", end, "temporalInterval",
                temporalInterval, "temporalStart", temporalStart, "temporalEnd", temporalEnd, "crossInterval",
                crossInterval, "crossStart", crossStart, "crossEnd", crossEnd);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
