package io.ditcache.sched;

/**
 * The float64 NumPy routines diffusers builds its timestep grids with, reproduced operation for operation
 * so that rounding (and {@code np.round}'s half-to-even) falls the same way.
 */
final class NumpyMath {
    private NumpyMath() {}

    /** {@code np.linspace(start, stop, num)}: {@code i * step + start}, last element exactly {@code stop}. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        int div = num - 1;
        double delta = stop - start;
        if (div > 0) {
            double step = delta / div;
            for (int i = 0; i < num; i++) {
                y[i] = (step == 0 ? i / (double) div * delta : i * step) + start;
            }
            y[num - 1] = stop;
        } else if (num == 1) {
            y[0] = start;
        }
        return y;
    }

    /**
     * {@code np.arange(start, stop, step)} for float64: length {@code ceil((stop - start) / step)}, element
     * {@code i >= 2} is {@code start + i * ((start + step) - start)} (NumPy's fill rule).
     */
    static double[] arange(double start, double stop, double step) {
        int len = (int) Math.max(0, Math.ceil((stop - start) / step));
        double[] y = new double[len];
        if (len > 0) {
            y[0] = start;
        }
        if (len > 1) {
            y[1] = start + step;
            double delta = y[1] - y[0];
            for (int i = 2; i < len; i++) {
                y[i] = start + i * delta;
            }
        }
        return y;
    }

    /** {@code np.round} (half to even), in place. */
    static double[] round(double[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.rint(x[i]);
        }
        return x;
    }

    static double[] reverse(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[x.length - 1 - i];
        }
        return y;
    }

    /** {@code np.interp(x, np.arange(len(fp)), fp)} for one point, in float64 as NumPy computes it. */
    static double interpOnIndexGrid(double x, float[] fp) {
        int last = fp.length - 1;
        if (x > last) {
            return fp[last];
        }
        if (x < 0) {
            return fp[0];
        }
        int j = (int) Math.floor(x);
        if (j == last || j == x) {
            return fp[j];
        }
        double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
        double r = slope * (x - j) + fp[j];
        if (Double.isNaN(r)) {
            r = slope * (x - (j + 1)) + fp[j + 1];
            if (Double.isNaN(r) && fp[j] == fp[j + 1]) {
                r = fp[j];
            }
        }
        return r;
    }
}
