package io.ditcache;

/**
 * Distances between one site's activations at consecutive steps ({@code a} = step i, {@code b} = step i+1),
 * per sample, accumulated in double precision. Each is a function of five sums over the elements, so one
 * pass over both tensors yields all four.
 */
public enum DistanceMetric {
    /** {@code mean(|b - a|)}: the paper's metric. */
    L1_MEAN,
    /** {@code sum|b - a| / sum|a|}: scale-free, the FBCache/TeaCache signal. */
    L1_REL,
    /** {@code 1 - <a,b> / (|a| |b|)}. */
    COSINE,
    /** {@code |b|_2 / |a|_2}: MagCache's signal. */
    NORM_RATIO;

    /**
     * The distance from the sums of one pass.
     *
     * @param n          element count
     * @param sumAbsDiff {@code sum |b - a|}
     * @param sumAbsA    {@code sum |a|}
     * @param dot        {@code sum a*b}
     * @param sumSqA     {@code sum a*a}
     * @param sumSqB     {@code sum b*b}
     */
    public double of(long n, double sumAbsDiff, double sumAbsA, double dot, double sumSqA, double sumSqB) {
        return switch (this) {
            case L1_MEAN -> sumAbsDiff / n;
            case L1_REL -> sumAbsDiff / sumAbsA;
            case COSINE -> 1.0 - dot / Math.sqrt(sumSqA * sumSqB);
            case NORM_RATIO -> Math.sqrt(sumSqB / sumSqA);
        };
    }
}
