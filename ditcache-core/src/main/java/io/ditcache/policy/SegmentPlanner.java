package io.ditcache.policy;

import java.util.Arrays;
import java.util.Objects;

/**
 * Plans which steps compute from {@linkplain SegmentErrors measured segment errors}, as LeMiCa (NeurIPS 2025) does:
 * a run is a path of segments from step 0 to the end, one per computed step, and the plan is the path of a given
 * number of segments whose largest segment error is least; among those, the one whose errors sum least. Every
 * block computes or reuses together (the plan is step-aligned); a reused step reuses each block's output of the last
 * computed step, as the calibration measured it.
 */
public final class SegmentPlanner {
    private final SegmentErrors errors;

    public SegmentPlanner(SegmentErrors errors) {
        this.errors = Objects.requireNonNull(errors, "errors");
    }

    /** The fewest computed steps a plan can have: segments are at most {@link SegmentErrors#maxLength()} long. */
    public int minComputes() {
        return (errors.steps() + errors.maxLength() - 1) / errors.maxLength();
    }

    /** The computed steps a plan for {@code budget} has: {@code floor(budget * steps)}. */
    public int computesFor(double budget) {
        return (int) Math.floor(budget * errors.steps() + 1e-9);
    }

    /** Whether a plan for {@code budget} exists: its computed steps can span the run in segments of measured length. */
    public boolean allows(double budget) {
        return computesFor(budget) >= minComputes();
    }

    /**
     * The computed steps, ascending from 0, of the plan that computes exactly {@code computes} steps.
     *
     * @throws IllegalArgumentException unless {@code minComputes() <= computes <= steps}
     */
    public int[] computedSteps(int computes) {
        int n = errors.steps();
        if (computes < minComputes() || computes > n) {
            throw new IllegalArgumentException("computes " + computes + " of " + n + " steps: expected "
                    + minComputes() + ".." + n + " (segments of at most " + errors.maxLength() + " steps)");
        }
        // least largest error of a path of k segments from step 0 to each step
        double[][] worst = new double[computes + 1][n + 1];
        for (double[] row : worst) {
            Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        worst[0][0] = 0;
        for (int k = 1; k <= computes; k++) {
            for (int to = 1; to <= n; to++) {
                for (int from = Math.max(0, to - errors.maxLength()); from < to; from++) {
                    double w = Math.max(worst[k - 1][from], errors.error(from, to));
                    if (w < worst[k][to]) {
                        worst[k][to] = w;
                    }
                }
            }
        }
        double bound = worst[computes][n];
        // least sum among paths whose every segment stays within that bound
        double[][] sum = new double[computes + 1][n + 1];
        int[][] previous = new int[computes + 1][n + 1];
        for (double[] row : sum) {
            Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        sum[0][0] = 0;
        for (int k = 1; k <= computes; k++) {
            for (int to = 1; to <= n; to++) {
                for (int from = Math.max(0, to - errors.maxLength()); from < to; from++) {
                    double e = errors.error(from, to);
                    if (e <= bound && sum[k - 1][from] + e < sum[k][to]) {
                        sum[k][to] = sum[k - 1][from] + e;
                        previous[k][to] = from;
                    }
                }
            }
        }
        int[] out = new int[computes];
        int at = n;
        for (int k = computes; k >= 1; k--) {
            at = previous[k][at];
            out[k - 1] = at;
        }
        return out;
    }

    /** The largest and the summed segment error of a plan's computed steps (ascending from 0). */
    public double[] cost(int[] computed) {
        double worst = 0;
        double total = 0;
        for (int k = 0; k < computed.length; k++) {
            int to = k + 1 < computed.length ? computed[k + 1] : errors.steps();
            double e = errors.error(computed[k], to);
            worst = Math.max(worst, e);
            total += e;
        }
        return new double[] {worst, total};
    }

    /**
     * The plan computing at most {@code budget} of the run's steps ({@code floor(budget * steps)} of them) over
     * {@code layers} blocks, every block alike; its estimated error is the plan's largest segment error.
     *
     * @throws IllegalArgumentException for a budget outside (0, 1], or one too small for the longest segment
     */
    public ComputeMask planForBudget(double budget, int layers) {
        ComputeMask.Budget criterion = new ComputeMask.Budget(budget);
        if (layers < 1) {
            throw new IllegalArgumentException("layers " + layers + ": expected >= 1");
        }
        int n = errors.steps();
        int computes = computesFor(budget);
        if (!allows(budget)) {
            throw new IllegalArgumentException("budget " + budget + " computes " + computes + " of " + n
                    + " steps, but segments of at most " + errors.maxLength() + " steps need " + minComputes());
        }
        int[] steps = computedSteps(computes);
        boolean[][] compute = new boolean[n][layers];
        for (int s : steps) {
            Arrays.fill(compute[s], true);
        }
        return new ComputeMask(compute, criterion, cost(steps)[0], errors.source());
    }
}
