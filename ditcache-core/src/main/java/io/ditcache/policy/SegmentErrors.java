package io.ditcache.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The measured cost of caching each segment of a sampling run, as LeMiCa (NeurIPS 2025) measures it: segment
 * {@code (from, to)} computes step {@code from}, reuses every block's output of that step through steps
 * {@code from + 1 .. to - 1}, and computes again at {@code to} (or ends, when {@code to} is the run's step count);
 * its error is how far the final samples of a run that caches only that segment lie from the uncached ones. A
 * segment of one step reuses nothing and costs 0; segments longer than {@link #maxLength()} are not candidates.
 */
public final class SegmentErrors {
    private final int steps;
    private final int maxLength;
    /** {@code [from][to - from - 2]} for segments of 2 or more steps. */
    private final double[][] errors;
    private final String source;

    /**
     * @param steps     steps of the run, >= 2
     * @param maxLength the longest segment measured, in [2, steps]
     * @param errors    per {@code from}, the errors of segments of length 2, 3, ... up to {@code maxLength} that
     *                  end by the run's end ({@code errors[from].length == min(maxLength, steps - from) - 1}, so
     *                  empty for the last step); each finite and >= 0. Copied.
     * @param source    where the errors were measured (model, scheduler, conditions)
     */
    public SegmentErrors(int steps, int maxLength, double[][] errors, String source) {
        if (steps < 2) {
            throw new IllegalArgumentException("steps " + steps + ": expected >= 2");
        }
        if (maxLength < 2 || maxLength > steps) {
            throw new IllegalArgumentException("max segment length " + maxLength + ": expected 2.." + steps);
        }
        Objects.requireNonNull(errors, "errors");
        if (errors.length != steps) {
            throw new IllegalArgumentException("errors for " + errors.length + " steps, expected " + steps);
        }
        this.errors = new double[steps][];
        for (int from = 0; from < steps; from++) {
            int want = Math.max(0, Math.min(maxLength, steps - from) - 1);
            if (errors[from] == null || errors[from].length != want) {
                throw new IllegalArgumentException("step " + from + ": " + (errors[from] == null ? "no"
                        : errors[from].length) + " segment errors, expected " + want);
            }
            for (int k = 0; k < want; k++) {
                double e = errors[from][k];
                if (!(e >= 0) || !Double.isFinite(e)) {
                    throw new IllegalArgumentException("segment " + from + ".." + (from + k + 2) + ": error " + e
                            + ", expected a finite number >= 0");
                }
            }
            this.errors[from] = errors[from].clone();
        }
        this.steps = steps;
        this.maxLength = maxLength;
        this.source = Objects.requireNonNull(source, "source");
    }

    /** The segments a calibration measures: each {@code {from, to}} with {@code 2 <= to - from <= maxLength}. */
    public static List<int[]> candidates(int steps, int maxLength) {
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < steps; from++) {
            for (int to = from + 2; to <= Math.min(from + maxLength, steps); to++) {
                out.add(new int[] {from, to});
            }
        }
        return out;
    }

    public int steps() {
        return steps;
    }

    public int maxLength() {
        return maxLength;
    }

    public String source() {
        return source;
    }

    /** Whether {@code (from, to)} is a candidate: {@code 0 <= from < to <= steps}, at most {@link #maxLength()} long. */
    public boolean covers(int from, int to) {
        return from >= 0 && to > from && to <= steps && to - from <= maxLength;
    }

    /**
     * The error of caching {@code from + 1 .. to - 1} after computing {@code from}: 0 for a one-step segment.
     *
     * @throws IllegalArgumentException where the segment is not a {@linkplain #covers candidate}
     */
    public double error(int from, int to) {
        if (!covers(from, to)) {
            throw new IllegalArgumentException("segment " + from + ".." + to + ": expected 0 <= from < to <= " + steps
                    + " and at most " + maxLength + " steps");
        }
        return to - from == 1 ? 0 : errors[from][to - from - 2];
    }
}
