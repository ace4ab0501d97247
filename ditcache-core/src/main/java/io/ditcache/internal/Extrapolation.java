package io.ditcache.internal;

/**
 * Weights of polynomial extrapolation through known points: the value at {@code target} of the polynomial of
 * degree {@code k-1} through {@code (steps[j], f_j)} is {@code sum_j w_j f_j} with Lagrange's
 * {@code w_j = prod_{m != j} (target - steps[m]) / (steps[j] - steps[m])}. Degree 1 and 2 are TaylorSeer's
 * first- and second-order forecasts from finite differences, for any spacing of the computed steps.
 */
public final class Extrapolation {
    private Extrapolation() {
    }

    /**
     * @param steps  distinct step indices of the known values
     * @param target the step to forecast
     */
    public static double[] weights(int[] steps, int target) {
        double[] w = new double[steps.length];
        for (int j = 0; j < steps.length; j++) {
            double v = 1;
            for (int m = 0; m < steps.length; m++) {
                if (m != j) {
                    if (steps[j] == steps[m]) {
                        throw new IllegalArgumentException("steps must differ, got " + java.util.Arrays.toString(steps));
                    }
                    v *= (double) (target - steps[m]) / (steps[j] - steps[m]);
                }
            }
            w[j] = v;
        }
        return w;
    }
}
