package io.ditcache.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Percentile bootstrap over samples: a statistic of per-sample values is recomputed on {@code resamples} draws of as
 * many samples with replacement, and the interval is the central {@code level} share of those recomputations.
 * Seeded, so the same values give the same interval on any machine.
 */
public final class Bootstrap {
    /** Resamples by default. */
    public static final int RESAMPLES = 1000;
    /** Confidence level by default. */
    public static final double LEVEL = 0.95;
    /** Seed by default. */
    public static final long SEED = 14;

    private Bootstrap() {
    }

    /**
     * An interval: {@code lo <= hi}, NaN where there was nothing to measure.
     *
     * @param lo lower end
     * @param hi upper end
     */
    public record Interval(double lo, double hi) {
        /** No interval. */
        public static final Interval NONE = new Interval(Double.NaN, Double.NaN);
    }

    /**
     * The {@code level} interval of {@code statistic} over resamples of {@code values}.
     *
     * @param values    per sample, at least one
     * @param statistic of a resample (as many values as {@code values}), e.g. a median
     * @param resamples at least 1
     * @param level     in (0, 1)
     */
    public static Interval interval(double[] values, ToDoubleFunction<double[]> statistic, int resamples,
            double level, long seed) {
        if (values.length == 0 || resamples < 1 || !(level > 0 && level < 1)) {
            throw new IllegalArgumentException("bootstrap of " + values.length + " values, " + resamples
                    + " resamples, level " + level + ": expected at least 1 value and 1 resample, level in (0, 1)");
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[] stats = new double[resamples];
        double[] draw = new double[values.length];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < draw.length; i++) {
                draw[i] = values[random.nextInt(values.length)];
            }
            stats[b] = statistic.applyAsDouble(draw);
        }
        double tail = (1 - level) / 2;
        return new Interval(percentile(stats, tail), percentile(stats, 1 - tail));
    }

    /** {@link #interval} with {@value #RESAMPLES} resamples, level {@value #LEVEL} and seed {@value #SEED}. */
    public static Interval interval(double[] values, ToDoubleFunction<double[]> statistic) {
        return interval(values, statistic, RESAMPLES, LEVEL, SEED);
    }

    /**
     * The {@code p} quantile of {@code values} by linear interpolation between order statistics (position
     * {@code p (n - 1)}, numpy's default); an infinite value is taken as it is (the quantile between a finite and an
     * infinite one is infinite unless it falls on the finite one).
     *
     * @param p in [0, 1]
     */
    public static double percentile(double[] values, double p) {
        if (values.length == 0 || !(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("percentile " + p + " of " + values.length + " values: expected p in "
                    + "[0, 1] and at least 1 value");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        double at = p * (s.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(lo + 1, s.length - 1);
        double frac = at - lo;
        if (frac == 0 || s[lo] == s[hi]) {
            return s[lo];
        }
        return s[lo] + (s[hi] - s[lo]) * frac;
    }

    /** The median ({@link #percentile} 0.5). */
    public static double median(double[] values) {
        return percentile(values, 0.5);
    }

    /** The mean. */
    public static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
