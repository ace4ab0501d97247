package io.ditcache;

/**
 * The normalised step axis of DESIGN.md: column {@code i} of an N-step profile (the transition from call
 * {@code i} to {@code i+1}, {@code N-1} columns) sits at {@code u = i / (N-2)} in [0, 1]. Profiles of different
 * step counts are compared after linear interpolation onto a common grid of u.
 */
public final class StepAxis {
    private StepAxis() {
    }

    /** Position of column {@code column} of a curve with {@code columns} points. */
    public static double u(int column, int columns) {
        return columns == 1 ? 0.0 : (double) column / (columns - 1);
    }

    /**
     * Grid size for comparing curves of {@code columnsA} and {@code columnsB} points: the coarser of the two,
     * so that neither curve is compared at more resolution than it was measured with.
     */
    public static int commonPoints(int columnsA, int columnsB) {
        return Math.min(columnsA, columnsB);
    }

    /**
     * {@code curve} (points at {@code u = i/(n-1)}) linearly interpolated at {@code u = j/(points-1)},
     * {@code j = 0..points-1}. A NaN neighbour makes the interpolated point NaN.
     */
    public static double[] resample(double[] curve, int points) {
        if (curve.length == 0 || points < 1) {
            throw new IllegalArgumentException("cannot resample a curve of " + curve.length + " points onto "
                    + points + " points");
        }
        double[] out = new double[points];
        int n = curve.length;
        for (int j = 0; j < points; j++) {
            double x = u(j, points) * (n - 1);
            int i = (int) Math.floor(x);
            if (i >= n - 1) {
                out[j] = curve[n - 1];
                continue;
            }
            double f = x - i;
            out[j] = f == 0 ? curve[i] : curve[i] * (1 - f) + curve[i + 1] * f;
        }
        return out;
    }

    /** {@code values} divided by the mean of its finite entries; all NaN when that mean is 0 or undefined. */
    public static double[] normalise(double[] values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                sum += v;
                n++;
            }
        }
        double mean = n == 0 ? Double.NaN : sum / n;
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = mean == 0 || !Double.isFinite(mean) ? Double.NaN : values[i] / mean;
        }
        return out;
    }
}
