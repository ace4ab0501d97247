package io.ditcache.study;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Pearson and Spearman correlation of paired samples, in float64. */
public final class Correlation {
    private Correlation() {
    }

    /** Pearson's r; NaN for fewer than two pairs or a constant sample. */
    public static double pearson(double[] x, double[] y) {
        check(x, y);
        int n = x.length;
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = x[i] - mx;
            double dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) {
            return Double.NaN;
        }
        return Math.max(-1.0, Math.min(1.0, sxy / Math.sqrt(sxx * syy)));
    }

    /** Spearman's rho: Pearson's r of the ranks, ties given their average rank. */
    public static double spearman(double[] x, double[] y) {
        check(x, y);
        return pearson(ranks(x), ranks(y));
    }

    /** 1-based ranks; tied values share the average of their ranks. */
    static double[] ranks(double[] v) {
        Integer[] order = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[order[j + 1]] == v[order[i]]) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[order[k]] = rank;
            }
            i = j + 1;
        }
        return r;
    }

    private static void check(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("samples differ in length: " + x.length + " vs " + y.length);
        }
    }
}
