package io.ditcache.backend;

import io.ditcache.DistanceMetric;

/**
 * The six sums one pass over two activations {@code a} (step i) and {@code b} (step i+1) yields, from which
 * every {@link DistanceMetric} follows.
 */
public record DistanceSums(long n, double sumAbsDiff, double sumAbsA, double dot, double sumSqA, double sumSqB) {

    /** Whether any element of either tensor was NaN or infinite (then every squared sum is non-finite). */
    public boolean nonFinite() {
        return !Double.isFinite(sumSqA) || !Double.isFinite(sumSqB) || !Double.isFinite(sumAbsDiff);
    }

    /** The metric's value; NaN when an activation held a non-finite element. */
    public double value(DistanceMetric metric) {
        if (nonFinite()) {
            return Double.NaN;
        }
        return metric.of(n, sumAbsDiff, sumAbsA, dot, sumSqA, sumSqB);
    }

    /** The sums over both ranges (this one first). */
    public DistanceSums plus(DistanceSums o) {
        return new DistanceSums(n + o.n, sumAbsDiff + o.sumAbsDiff, sumAbsA + o.sumAbsA, dot + o.dot,
                sumSqA + o.sumSqA, sumSqB + o.sumSqB);
    }
}
