package io.ditcache.policy;

import java.util.Arrays;

/**
 * Least-squares polynomial fit in double precision by Householder QR of the Vandermonde matrix (no normal
 * equations, whose condition number is the square of it). {@code x} is scaled by its largest magnitude first, so
 * that small signals raised to the fourth power do not underflow the columns; the coefficients are scaled back.
 */
final class PolynomialFit {
    private PolynomialFit() {
    }

    /**
     * Coefficients {@code c} in ascending powers ({@code y ~ c[0] + c[1] x + ... + c[d] x^d}) minimising the sum of
     * squared residuals.
     *
     * @throws IllegalArgumentException when the points do not determine a polynomial of that degree (fewer than
     *                                  {@code degree + 1} distinct {@code x})
     */
    static double[] leastSquares(double[] x, double[] y, int degree) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("x has " + x.length + " values, y has " + y.length);
        }
        if (degree < 0) {
            throw new IllegalArgumentException("degree must be >= 0, got " + degree);
        }
        long distinct = Arrays.stream(x).distinct().count();
        if (distinct < degree + 1) {
            throw new IllegalArgumentException("a degree-" + degree + " fit needs at least " + (degree + 1)
                    + " distinct x values, got " + distinct);
        }
        int m = x.length;
        int n = degree + 1;
        double largest = Arrays.stream(x).map(Math::abs).max().orElse(0.0);
        double scale = largest > 0 ? largest : 1.0;
        double[][] a = new double[m][n];
        double[] b = y.clone();
        for (int i = 0; i < m; i++) {
            double t = x[i] / scale;
            double p = 1;
            for (int k = 0; k < n; k++) {
                a[i][k] = p;
                p *= t;
            }
        }
        householder(a, b);
        double[] c = new double[n];
        for (int k = n - 1; k >= 0; k--) {
            double s = b[k];
            for (int j = k + 1; j < n; j++) {
                s -= a[k][j] * c[j];
            }
            c[k] = s / a[k][k];
        }
        double power = 1;
        for (int k = 0; k < n; k++) {
            c[k] /= power;
            power *= scale;
        }
        return c;
    }

    /** Reduces {@code a} to upper-triangular R in place and applies the same reflections to {@code b}. */
    private static void householder(double[][] a, double[] b) {
        int m = a.length;
        int n = a[0].length;
        double[] v = new double[m];
        for (int k = 0; k < n; k++) {
            double norm = 0;
            for (int i = k; i < m; i++) {
                norm += a[i][k] * a[i][k];
            }
            norm = Math.sqrt(norm);
            double alpha = a[k][k] > 0 ? -norm : norm;
            double vv = 0;
            for (int i = k; i < m; i++) {
                v[i] = a[i][k] - (i == k ? alpha : 0);
                vv += v[i] * v[i];
            }
            if (vv == 0) {
                continue; // column already reduced
            }
            for (int j = k; j < n; j++) {
                reflect(v, vv, k, a, j);
            }
            double dot = 0;
            for (int i = k; i < m; i++) {
                dot += v[i] * b[i];
            }
            double f = 2 * dot / vv;
            for (int i = k; i < m; i++) {
                b[i] -= f * v[i];
            }
        }
    }

    private static void reflect(double[] v, double vv, int k, double[][] a, int column) {
        double dot = 0;
        for (int i = k; i < a.length; i++) {
            dot += v[i] * a[i][column];
        }
        double f = 2 * dot / vv;
        for (int i = k; i < a.length; i++) {
            a[i][column] -= f * v[i];
        }
    }

    /** {@code c[0] + c[1] x + ... } by Horner's rule. */
    static double evaluate(double[] c, double x) {
        double s = 0;
        for (int k = c.length - 1; k >= 0; k--) {
            s = s * x + c[k];
        }
        return s;
    }
}
