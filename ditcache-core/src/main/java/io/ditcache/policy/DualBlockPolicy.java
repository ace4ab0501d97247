package io.ditcache.policy;

import io.ditcache.CachePolicy;
import io.ditcache.SignalRequest;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * DBCache (cache-dit's dual block cache): the first {@code firstBlocks} (Fn) and the last {@code lastBlocks}
 * (Bn) blocks always compute; the middle blocks are skipped together ({@link Decision#REUSE_BLOCK}) when the
 * {@link io.ditcache.CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE} of the first Fn blocks (requested at block Fn-1),
 * measured for this row at this step, is below {@code threshold}, the step is neither step 0 nor in the warm-up, and neither cap is reached. A step
 * counts as cached for its row when its middle blocks were skipped; a computed step ends a run of consecutive
 * cached steps.
 *
 * <p>The decision is taken once per row and step, at its first middle block, so all middle blocks agree and the
 * caps count steps, not blocks. Where Fn + Bn covers the whole model nothing is ever skipped.
 */
public final class DualBlockPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "dbcache";

    private final int firstBlocks;
    private final int lastBlocks;
    private final double threshold;
    private final SignalRequest signal;
    private final int warmupSteps;
    private final int maxCachedSteps;
    private final int maxContinuousCachedSteps;
    private final Map<Row, RowState> rows = new HashMap<>();

    private static final class RowState {
        int signalStep = -1;
        double signal;
        int decidedStep = -1;
        boolean reuse;
        int cachedSteps;
        int continuousCachedSteps;
    }

    /**
     * @param firstBlocks              Fn: leading blocks that always compute and whose residual change is the
     *                                 signal, {@code >= 1} (default in {@link Policies}: 1)
     * @param lastBlocks               Bn: trailing blocks that always compute, {@code >= 0} (default: 0)
     * @param threshold                skip the middle blocks when the signal is below this, a finite number
     *                                 {@code >= 0} (no default); 0 computes everything
     * @param warmupSteps              steps {@code < warmupSteps} always compute, {@code >= 0} (default: 0)
     * @param maxCachedSteps           at most this many cached steps per row and run, {@code >= 0}, or -1 for
     *                                 no cap (default: -1)
     * @param maxContinuousCachedSteps at most this many consecutive cached steps per row, {@code >= 0}, or -1
     *                                 for no cap (default: -1)
     */
    public DualBlockPolicy(int firstBlocks, int lastBlocks, double threshold, int warmupSteps, int maxCachedSteps,
            int maxContinuousCachedSteps) {
        this.firstBlocks = ParameterChecks.atLeast(NAME, "firstBlocks", firstBlocks, 1);
        this.lastBlocks = ParameterChecks.atLeast(NAME, "lastBlocks", lastBlocks, 0);
        this.threshold = ParameterChecks.nonNegative(NAME, "threshold", threshold);
        this.signal = SignalRequest.firstBlocksResidual(this.firstBlocks - 1);
        this.warmupSteps = ParameterChecks.atLeast(NAME, "warmupSteps", warmupSteps, 0);
        this.maxCachedSteps = ParameterChecks.atLeastOrNone(NAME, "maxCachedSteps", maxCachedSteps, 0, "no cap");
        this.maxContinuousCachedSteps = ParameterChecks.atLeastOrNone(NAME, "maxContinuousCachedSteps",
                maxContinuousCachedSteps, 0, "no cap");
    }

    /** No warm-up and no caps. */
    public DualBlockPolicy(int firstBlocks, int lastBlocks, double threshold) {
        this(firstBlocks, lastBlocks, threshold, 0, -1, -1);
    }

    @Override
    public Set<SignalRequest> signals() {
        return Set.of(signal);
    }

    /** Fn: the leading blocks that always compute and whose combined residual is the signal. */
    public int firstBlocks() {
        return firstBlocks;
    }

    @Override
    public void observe(SignalRequest signal, Query query, double value) {
        if (signal.equals(this.signal)) {
            RowState s = rows.computeIfAbsent(Row.of(query), r -> new RowState());
            s.signalStep = query.step();
            s.signal = value;
        }
    }

    @Override
    public Decision decide(Query query) {
        int layer = query.layer();
        if (layer < firstBlocks || layer >= query.layers() - lastBlocks) {
            return Decision.COMPUTE;
        }
        RowState s = rows.computeIfAbsent(Row.of(query), r -> new RowState());
        int step = query.step();
        if (s.decidedStep != step) {
            s.decidedStep = step;
            s.reuse = step > 0
                    && step >= warmupSteps
                    && s.signalStep == step
                    && s.signal < threshold
                    && (maxCachedSteps < 0 || s.cachedSteps < maxCachedSteps)
                    && (maxContinuousCachedSteps < 0 || s.continuousCachedSteps < maxContinuousCachedSteps);
            if (s.reuse) {
                s.cachedSteps++;
                s.continuousCachedSteps++;
            } else {
                s.continuousCachedSteps = 0;
            }
        }
        return s.reuse ? Decision.REUSE_BLOCK : Decision.COMPUTE;
    }

    @Override
    public void reset() {
        rows.clear();
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
        return Policies.description(NAME, "firstBlocks", firstBlocks, "lastBlocks", lastBlocks, "threshold",
                threshold, "warmupSteps", warmupSteps, "maxCachedSteps", maxCachedSteps, "maxContinuousCachedSteps",
                maxContinuousCachedSteps);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
