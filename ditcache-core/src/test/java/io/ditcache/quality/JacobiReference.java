package io.ditcache.quality;

/** A plain cyclic-Jacobi eigensolver in double: the reference the libtorch path is checked against. */
final class JacobiReference {
    private JacobiReference() {
    }

    /** Eigenvalues (returned) and eigenvectors (columns of {@code vectors}) of symmetric {@code a}. */
    static double[] eigen(double[] a, int n, double[] vectors) {
        double[] m = a.clone();
        for (int i = 0; i < n * n; i++) {
            vectors[i] = i / n == i % n ? 1 : 0;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += m[p * n + q] * m[p * n + q];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = m[p * n + q];
                    if (Math.abs(apq) < 1e-300) {
                        continue;
                    }
                    double theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) { // columns p, q
                        double mkp = m[k * n + p];
                        double mkq = m[k * n + q];
                        m[k * n + p] = c * mkp - s * mkq;
                        m[k * n + q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++) { // rows p, q
                        double mpk = m[p * n + k];
                        double mqk = m[q * n + k];
                        m[p * n + k] = c * mpk - s * mqk;
                        m[q * n + k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = vectors[k * n + p];
                        double vkq = vectors[k * n + q];
                        vectors[k * n + p] = c * vkp - s * vkq;
                        vectors[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = m[i * n + i];
        }
        return values;
    }

    static double[] sqrtPsd(double[] a, int n) {
        double[] v = new double[n * n];
        double[] e = eigen(a, n, v);
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += v[i * n + k] * Math.sqrt(Math.max(0, e[k])) * v[j * n + k];
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    static double[] multiply(double[] a, double[] b, int n) {
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += a[i * n + k] * b[k * n + j];
                }
            }
        }
        return c;
    }

    static double frechet(FrechetDistance.Statistics a, FrechetDistance.Statistics b) {
        int n = a.dim();
        double[] s1 = sqrtPsd(a.covariance(), n);
        double[] m = multiply(multiply(s1, b.covariance(), n), s1, n);
        double[] e = eigen(m, n, new double[n * n]);
        double fd = 0;
        for (int i = 0; i < n; i++) {
            double d = a.mean()[i] - b.mean()[i];
            fd += d * d + a.covariance()[i * n + i] + b.covariance()[i * n + i] - 2 * Math.sqrt(Math.max(0, e[i]));
        }
        return fd;
    }
}
