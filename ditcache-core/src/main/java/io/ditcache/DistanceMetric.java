package io.ditcache;

import java.util.List;

/**
 * Distances between one site's activations at consecutive steps ({@code a} = step i, {@code b} = step i+1),
 * per sample, accumulated in double precision. Each is a function of five sums over the elements, so one
 * pass over both tensors yields the four {@linkplain #stepToStep() step-to-step} metrics. {@link #FORECAST_L1_REL}
 * also reads step i-1 and is measured only when asked.
 */
public enum DistanceMetric {
    /** {@code mean(|b - a|)}: the paper's metric. */
    L1_MEAN,
    /** {@code sum|b - a| / sum|a|}: scale-free, the FBCache/TeaCache signal. */
    L1_REL,
    /** {@code 1 - <a,b> / (|a| |b|)}. */
    COSINE,
    /** {@code |b|_2 / |a|_2}: MagCache's signal. */
    NORM_RATIO,
    /**
     * {@code sum|b - (2a - p)| / sum|a|} with {@code p} = step i-1: what a first-order (Taylor) forecast from steps
     * i-1 and i misses at step i+1, on the scale of {@link #L1_REL}; undefined for the first column. Its sums are
     * those of {@code (a, b)} except that {@code sumAbsDiff} is {@code sum|b - (2a - p)|}.
     */
    FORECAST_L1_REL;

    private static final List<DistanceMetric> STEP_TO_STEP = List.of(L1_MEAN, L1_REL, COSINE, NORM_RATIO);

    /** The metrics of one pair of consecutive steps, which every profile holds: all but {@link #FORECAST_L1_REL}. */
    public static List<DistanceMetric> stepToStep() {
        return STEP_TO_STEP;
    }

    /**
     * The distance from the sums of one pass.
     *
     * @param n          element count
     * @param sumAbsDiff {@code sum |b - a|} ({@code sum |b - (2a - p)|} for {@link #FORECAST_L1_REL})
     * @param sumAbsA    {@code sum |a|}
     * @param dot        {@code sum a*b}
     * @param sumSqA     {@code sum a*a}
     * @param sumSqB     {@code sum b*b}
     */
    public double of(long n, double sumAbsDiff, double sumAbsA, double dot, double sumSqA, double sumSqB) {
        return switch (this) {
            case L1_MEAN -> sumAbsDiff / n;
            case L1_REL, FORECAST_L1_REL -> sumAbsDiff / sumAbsA;
            case COSINE -> 1.0 - dot / Math.sqrt(sumSqA * sumSqB);
            case NORM_RATIO -> Math.sqrt(sumSqB / sumSqA);
        };
    }
}
