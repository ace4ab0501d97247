package io.ditcache.quality;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets (the statistic behind FID):
 * {@code |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2)}.
 *
 * <p>Means and sample covariances ({@code n - 1} denominator, as pytorch-fid and numpy's {@code cov}) are
 * computed in double. The matrix square roots come from symmetric eigendecompositions in float64 (libtorch's
 * {@code linalg_eigh}); eigenvalues that rounding made slightly negative are taken as 0. The symmetric form
 * {@code C1^1/2 C2 C1^1/2} has the same trace square root as pytorch-fid's {@code sqrtm(C1 C2)} but stays
 * symmetric, so no complex parts arise.
 *
 * <p>The distance is biased upwards for small sets: compare values only at equal sample counts.
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    /**
     * Mean and sample covariance of a feature set.
     *
     * @param count      samples the statistics were computed from
     * @param dim        feature dimension
     * @param mean       {@code [dim]}
     * @param covariance row-major {@code [dim, dim]}, symmetric
     */
    public record Statistics(int count, int dim, double[] mean, double[] covariance) {
        public Statistics {
            if (dim < 1) {
                throw new IllegalArgumentException("dim must be >= 1, got " + dim);
            }
            if (mean.length != dim || covariance.length != (long) dim * dim) {
                throw new IllegalArgumentException("mean has " + mean.length + " and covariance " + covariance.length
                        + " values, expected " + dim + " and " + (long) dim * dim);
            }
            mean = mean.clone();
            covariance = covariance.clone();
        }

        @Override
        public double[] mean() {
            return mean.clone();
        }

        @Override
        public double[] covariance() {
            return covariance.clone();
        }

        /**
         * Statistics of {@code n} row-major feature vectors of length {@code dim}.
         *
         * @throws IllegalArgumentException if {@code n < 2}, {@code dim < 1} or the array is not {@code n * dim}
         */
        public static Statistics of(float[] features, int n, int dim) {
            checkSet("features", features, n, dim);
            double[] mean = new double[dim];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < dim; i++) {
                    mean[i] += features[s * dim + i];
                }
            }
            for (int i = 0; i < dim; i++) {
                mean[i] /= n;
            }
            double[] cov = new double[dim * dim];
            double[] c = new double[dim];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < dim; i++) {
                    c[i] = features[s * dim + i] - mean[i];
                }
                for (int i = 0; i < dim; i++) {
                    double ci = c[i];
                    int row = i * dim;
                    for (int j = i; j < dim; j++) {
                        cov[row + j] += ci * c[j];
                    }
                }
            }
            for (int i = 0; i < dim; i++) {
                for (int j = i; j < dim; j++) {
                    double v = cov[i * dim + j] / (n - 1);
                    cov[i * dim + j] = v;
                    cov[j * dim + i] = v;
                }
            }
            return new Statistics(n, dim, mean, cov);
        }
    }

    /**
     * The Fréchet distance between {@code n} feature vectors {@code a} and {@code m} vectors {@code b}, each
     * row-major with {@code dim} values.
     *
     * @throws IllegalArgumentException if a set has fewer than 2 vectors or its array is not {@code count * dim}
     */
    public static double of(float[] a, int n, float[] b, int m, int dim) {
        checkSet("first set", a, n, dim);
        checkSet("second set", b, m, dim);
        return between(Statistics.of(a, n, dim), Statistics.of(b, m, dim));
    }

    /**
     * The Fréchet distance between two Gaussians given by their statistics.
     *
     * @throws IllegalArgumentException if the dimensions differ
     */
    public static double between(Statistics a, Statistics b) {
        if (a.dim() != b.dim()) {
            throw new IllegalArgumentException("feature dimensions differ: " + a.dim() + " and " + b.dim());
        }
        int d = a.dim();
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            double diff = a.mean[i] - b.mean[i];
            meanTerm += diff * diff;
        }
        double traces = 0;
        for (int i = 0; i < d; i++) {
            traces += a.covariance[i * d + i] + b.covariance[i * d + i];
        }
        double fd = meanTerm + traces - 2 * traceSqrtOfProduct(a.covariance, b.covariance, d);
        // mathematically >= 0; rounding can leave a tiny negative for identical sets
        return Math.max(0.0, fd);
    }

    /** {@code tr((C1^1/2 C2 C1^1/2)^1/2)} for symmetric positive semi-definite {@code C1}, {@code C2}. */
    static double traceSqrtOfProduct(double[] c1, double[] c2, int d) {
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            Tensor s1 = sqrtPsd(doubles(c1, d, d));
            Tensor m = s1.matmul(doubles(c2, d, d)).matmul(s1);
            m = m.add(m.t()).mul(new Scalar(0.5));
            Tensor eig = torch.clamp_min(torch.linalg_eigvalsh(m), new Scalar(0.0));
            return eig.sqrt().sum().item_double();
        }
    }

    /**
     * The square root of a symmetric positive semi-definite matrix, row-major {@code [d, d]}, computed in double.
     */
    static double[] sqrtPsd(double[] c, int d) {
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            return toDoubles(sqrtPsd(doubles(c, d, d)));
        }
    }

    private static Tensor sqrtPsd(Tensor c) {
        var eigh = torch.linalg_eigh(c);
        Tensor values = torch.clamp_min(eigh.get0(), new Scalar(0.0)).sqrt();
        Tensor vectors = eigh.get1();
        return vectors.mul(values.unsqueeze(0)).matmul(vectors.t());
    }

    private static Tensor doubles(double[] v, long... shape) {
        Tensor t = torch.empty(shape, new TensorOptions(ScalarType.Double), null);
        t.data_ptr_double().put(v);
        return t;
    }

    private static double[] toDoubles(Tensor t) {
        Tensor c = t.contiguous();
        double[] out = new double[Math.toIntExact(c.numel())];
        c.data_ptr_double().get(out);
        return out;
    }

    private static void checkSet(String what, float[] values, int count, int dim) {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        }
        if (count < 2) {
            throw new IllegalArgumentException(what + ": " + count
                    + " vectors, need at least 2 for a sample covariance");
        }
        if (values.length != (long) count * dim) {
            throw new IllegalArgumentException(what + ": " + values.length + " values, expected " + count + " x "
                    + dim + " = " + (long) count * dim);
        }
        int bad = nonFiniteRows(values, count, dim);
        if (bad > 0) {
            // checked here: libtorch's eigendecomposition of a NaN covariance fails as "linalg.eigh: The algorithm
            // failed to converge", which names neither the cause nor the data
            throw new IllegalArgumentException(what + ": " + bad + " of " + count
                    + " vectors hold NaN or infinite values; a Fréchet distance needs finite features");
        }
    }

    /** How many of the {@code count} rows of length {@code dim} hold a NaN or infinite value. */
    static int nonFiniteRows(float[] values, int count, int dim) {
        int bad = 0;
        for (int s = 0; s < count; s++) {
            for (int i = s * dim; i < (s + 1) * dim; i++) {
                if (!Float.isFinite(values[i])) {
                    bad++;
                    break;
                }
            }
        }
        return bad;
    }
}
