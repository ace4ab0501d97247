package io.ditcache.study;

import io.ditcache.StepAxis;
import java.util.ArrayList;
import java.util.List;

/**
 * How well two redundancy curves agree after both are put on the normalised step axis and divided by their
 * mean: Pearson and Spearman correlation, and the mean and largest absolute difference of the normalised values.
 * Points where either curve is NaN are left out; NaN measures mean "undefined" (too few points, a constant
 * curve).
 */
public record CurveAgreement(double pearson, double spearman, double meanAbsDiff, double maxAbsDiff, int points) {

    /** Agreement of two curves already on the same grid and normalised. */
    public static CurveAgreement of(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("curves differ in length: " + a.length + " vs " + b.length);
        }
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isFinite(a[i]) && Double.isFinite(b[i])) {
                n++;
            }
        }
        double[] x = new double[n];
        double[] y = new double[n];
        int k = 0;
        double sum = 0;
        double max = n == 0 ? Double.NaN : 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isFinite(a[i]) && Double.isFinite(b[i])) {
                x[k] = a[i];
                y[k] = b[i];
                double d = Math.abs(a[i] - b[i]);
                sum += d;
                max = Math.max(max, d);
                k++;
            }
        }
        return new CurveAgreement(Correlation.pearson(x, y), Correlation.spearman(x, y),
                n == 0 ? Double.NaN : sum / n, max, n);
    }

    /**
     * Per-layer and overall agreement of two {@code [layer][column]} matrices of means (for example of
     * different step counts). Each layer's curve is resampled onto the common grid; per layer it is divided by
     * its own mean, overall the whole matrix is divided by its grand mean and compared cell by cell.
     *
     * <p>Models of different depth have no layer-by-layer correspondence: then there are no per-layer entries
     * and the overall entry compares the curves of the mean over layers.
     *
     * @return one entry per layer (none for different depths), then the overall entry
     */
    public static List<CurveAgreement> layersAndOverall(double[][] a, double[][] b) {
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException("a comparison needs at least one layer on each side");
        }
        if (a.length != b.length) {
            return layersAndOverall(new double[][] {layerMean(a)}, new double[][] {layerMean(b)})
                    .subList(1, 2);
        }
        int points = StepAxis.commonPoints(a[0].length, b[0].length);
        double[][] ra = new double[a.length][];
        double[][] rb = new double[b.length][];
        List<CurveAgreement> out = new ArrayList<>();
        for (int l = 0; l < a.length; l++) {
            ra[l] = StepAxis.resample(a[l], points);
            rb[l] = StepAxis.resample(b[l], points);
            out.add(of(StepAxis.normalise(ra[l]), StepAxis.normalise(rb[l])));
        }
        out.add(of(StepAxis.normalise(flatten(ra)), StepAxis.normalise(flatten(rb))));
        return out;
    }

    private static double[] layerMean(double[][] m) {
        double[] out = new double[m[0].length];
        for (double[] row : m) {
            for (int t = 0; t < out.length; t++) {
                out[t] += row[t] / m.length;
            }
        }
        return out;
    }

    private static double[] flatten(double[][] m) {
        return java.util.Arrays.stream(m).flatMapToDouble(java.util.Arrays::stream).toArray();
    }
}
