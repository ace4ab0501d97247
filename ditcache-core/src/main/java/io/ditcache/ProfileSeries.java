package io.ditcache;

import java.util.Arrays;

/**
 * Per-cell running statistics of one {@link SeriesKey} over runs: a {@code [layer][step]} grid of count, mean
 * and M2 (Welford), merged exactly with Chan's formula. Non-finite observations are counted apart and never
 * enter the mean.
 */
public final class ProfileSeries {
    private final SeriesKey key;
    private final long[][] count;
    private final double[][] mean;
    private final double[][] m2;
    private final long[][] nonFinite;

    ProfileSeries(SeriesKey key, int layers, int steps) {
        this(key, new long[layers][steps], new double[layers][steps], new double[layers][steps],
                new long[layers][steps]);
    }

    ProfileSeries(SeriesKey key, long[][] count, double[][] mean, double[][] m2, long[][] nonFinite) {
        this.key = key;
        this.count = count;
        this.mean = mean;
        this.m2 = m2;
        this.nonFinite = nonFinite;
    }

    public SeriesKey key() {
        return key;
    }

    public int layers() {
        return count.length;
    }

    public int steps() {
        return count.length == 0 ? 0 : count[0].length;
    }

    /** Adds one observation (Welford). A NaN or infinite value only increments {@link #nonFinite}. */
    void add(int layer, int step, double value) {
        if (!Double.isFinite(value)) {
            nonFinite[layer][step]++;
            return;
        }
        long n = ++count[layer][step];
        double delta = value - mean[layer][step];
        mean[layer][step] += delta / n;
        m2[layer][step] += delta * (value - mean[layer][step]);
    }

    /** Adds {@code other}'s statistics into this one (Chan et al.). */
    void merge(ProfileSeries other) {
        for (int l = 0; l < layers(); l++) {
            for (int s = 0; s < steps(); s++) {
                long nb = other.count[l][s];
                nonFinite[l][s] += other.nonFinite[l][s];
                if (nb == 0) {
                    continue;
                }
                long na = count[l][s];
                long n = na + nb;
                double delta = other.mean[l][s] - mean[l][s];
                mean[l][s] += delta * nb / n;
                m2[l][s] += other.m2[l][s] + delta * delta * ((double) na * nb / n);
                count[l][s] = n;
            }
        }
    }

    ProfileSeries copy() {
        return new ProfileSeries(key, deep(count), deep(mean), deep(m2), deep(nonFinite));
    }

    public long count(int layer, int step) {
        return count[layer][step];
    }

    public long nonFinite(int layer, int step) {
        return nonFinite[layer][step];
    }

    /** Mean of the finite observations; NaN where there are none. */
    public double mean(int layer, int step) {
        return count[layer][step] == 0 ? Double.NaN : mean[layer][step];
    }

    public double m2(int layer, int step) {
        return m2[layer][step];
    }

    /** Population standard deviation; NaN where there are no observations. */
    public double std(int layer, int step) {
        long n = count[layer][step];
        return n == 0 ? Double.NaN : Math.sqrt(m2[layer][step] / n);
    }

    /** Coefficient of variation {@code std / mean}; NaN where undefined. */
    public double cv(int layer, int step) {
        return std(layer, step) / mean(layer, step);
    }

    /** The paper's scalar summary: the mean of the finite per-cell CVs. */
    public double meanCv() {
        double sum = 0;
        int n = 0;
        for (int l = 0; l < layers(); l++) {
            for (int s = 0; s < steps(); s++) {
                double cv = cv(l, s);
                if (Double.isFinite(cv)) {
                    sum += cv;
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Whether any cell had a non-finite observation. */
    public boolean hasNonFinite() {
        return Arrays.stream(nonFinite).flatMapToLong(Arrays::stream).anyMatch(c -> c > 0);
    }

    /** {@code [layer][step]} matrix of means (NaN where empty). */
    public double[][] means() {
        double[][] out = new double[layers()][steps()];
        for (int l = 0; l < layers(); l++) {
            for (int s = 0; s < steps(); s++) {
                out[l][s] = mean(l, s);
            }
        }
        return out;
    }

    long[][] countMatrix() {
        return count;
    }

    double[][] meanMatrix() {
        return mean;
    }

    double[][] m2Matrix() {
        return m2;
    }

    long[][] nonFiniteMatrix() {
        return nonFinite;
    }

    private static long[][] deep(long[][] a) {
        return Arrays.stream(a).map(long[]::clone).toArray(long[][]::new);
    }

    private static double[][] deep(double[][] a) {
        return Arrays.stream(a).map(double[]::clone).toArray(double[][]::new);
    }
}
