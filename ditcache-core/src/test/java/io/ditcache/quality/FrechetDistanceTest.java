package io.ditcache.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {
    static float[] gaussian(Random rnd, int n, double[] mean, double[] sd) {
        int d = mean.length;
        float[] x = new float[n * d];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < d; i++) {
                x[s * d + i] = (float) (mean[i] + sd[i] * rnd.nextGaussian());
            }
        }
        return x;
    }

    static float[] uniform(Random rnd, int n, int d) {
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            // correlated columns: each value mixes in its neighbour
            x[i] = (float) (rnd.nextDouble() + (i % d > 0 ? 0.7 * x[i - 1] : 0));
        }
        return x;
    }

    @Test
    void identicalSetsAreAtDistanceZero() {
        float[] a = uniform(new Random(1), 300, 16);
        assertEquals(0.0, FrechetDistance.of(a, 300, a.clone(), 300, 16), 1e-9);
    }

    @Test
    void diagonalGaussiansMatchTheClosedForm() {
        double[] mu1 = {0, 1, -1, 0.5};
        double[] sd1 = {1, 2, 0.5, 1};
        double[] mu2 = {0.5, 0, -1, 1.5};
        double[] sd2 = {1.5, 1, 0.5, 3};
        // |mu1 - mu2|^2 + sum (sd1 - sd2)^2 for diagonal covariances
        double expected = 0;
        for (int i = 0; i < 4; i++) {
            expected += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + (sd1[i] - sd2[i]) * (sd1[i] - sd2[i]);
        }
        int n = 50_000;
        float[] a = gaussian(new Random(11), n, mu1, sd1);
        float[] b = gaussian(new Random(12), n, mu2, sd2);
        double fd = FrechetDistance.of(a, n, b, n, 4);
        assertEquals(expected, fd, 0.15, "closed form " + expected + ", sampled " + fd);
    }

    @Test
    void twoByTwoStatisticsMatchTheClosedForm() {
        // non-commuting covariances; for 2x2 PSD M, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)), and
        // C1^1/2 C2 C1^1/2 has trace tr(C1 C2) and determinant det C1 det C2
        double[] c1 = {2, 0.8, 0.8, 1};
        double[] c2 = {1, -0.3, -0.3, 0.5};
        var s1 = new FrechetDistance.Statistics(10, 2, new double[] {1, 2}, c1);
        var s2 = new FrechetDistance.Statistics(10, 2, new double[] {0, 2.5}, c2);
        double trC1C2 = c1[0] * c2[0] + c1[1] * c2[2] + c1[2] * c2[1] + c1[3] * c2[3];
        double det = (c1[0] * c1[3] - c1[1] * c1[2]) * (c2[0] * c2[3] - c2[1] * c2[2]);
        double expected = 1 + 0.25 + (c1[0] + c1[3] + c2[0] + c2[3]) - 2 * Math.sqrt(trC1C2 + 2 * Math.sqrt(det));
        assertEquals(expected, FrechetDistance.between(s1, s2), 1e-12);
        assertEquals(expected, FrechetDistance.between(s2, s1), 1e-12);
    }

    @Test
    void isSymmetric() {
        Random rnd = new Random(5);
        float[] a = uniform(rnd, 200, 10);
        float[] b = uniform(rnd, 150, 10);
        for (int i = 0; i < b.length; i++) {
            b[i] = b[i] * 1.3f + 0.2f;
        }
        double ab = FrechetDistance.of(a, 200, b, 150, 10);
        double ba = FrechetDistance.of(b, 150, a, 200, 10);
        assertTrue(ab > 0.1, "distinct sets are apart, got " + ab);
        assertEquals(ab, ba, 1e-9 * ab);
    }

    @Test
    void agreesWithAPlainJacobiReference() {
        Random rnd = new Random(7);
        int d = 12;
        // full rank, and rank-deficient (fewer samples than dimensions: eigenvalues ~0 get clamped)
        for (int[] nm : new int[][] {{60, 45}, {5, 8}}) {
            float[] a = uniform(rnd, nm[0], d);
            float[] b = uniform(rnd, nm[1], d);
            for (int i = 0; i < b.length; i++) {
                b[i] = 0.8f * b[i] + 0.1f;
            }
            var sa = FrechetDistance.Statistics.of(a, nm[0], d);
            var sb = FrechetDistance.Statistics.of(b, nm[1], d);
            double expected = JacobiReference.frechet(sa, sb);
            assertEquals(expected, FrechetDistance.between(sa, sb), 1e-7 * Math.max(1, expected),
                    "n=" + nm[0] + " m=" + nm[1]);
        }
    }

    @Test
    void matrixSquareRootSquaresBack() {
        var s = FrechetDistance.Statistics.of(uniform(new Random(9), 50, 6), 50, 6);
        double[] c = s.covariance();
        double[] r = FrechetDistance.sqrtPsd(c, 6);
        double[] rr = JacobiReference.multiply(r, r, 6);
        for (int i = 0; i < c.length; i++) {
            assertEquals(c[i], rr[i], 1e-12, "element " + i);
        }
        double[] plain = JacobiReference.sqrtPsd(c, 6);
        for (int i = 0; i < c.length; i++) {
            assertEquals(plain[i], r[i], 1e-10, "element " + i);
        }
    }

    @Test
    void sampleCovarianceUsesNMinusOne() {
        var s = FrechetDistance.Statistics.of(new float[] {1, 0, 3, 2}, 2, 2);
        assertEquals(2.0, s.mean()[0]);
        assertEquals(1.0, s.mean()[1]);
        // deviations (-1, -1) and (1, 1): sum of products 2, over n - 1 = 1
        assertEquals(2.0, s.covariance()[0]);
        assertEquals(2.0, s.covariance()[1]);
        assertEquals(2.0, s.covariance()[3]);
    }

    @Test
    void badShapesAreRejected() {
        float[] a = new float[20];
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.of(a, 5, a, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.of(a, 1, a, 1, 20), "one vector");
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.of(a, 5, a, 5, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(
                FrechetDistance.Statistics.of(a, 5, 4), FrechetDistance.Statistics.of(a, 4, 5)));
        assertTrue(e.getMessage().contains("dimensions differ"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new FrechetDistance.Statistics(2, 2, new double[2], new double[3]));
    }

    @Test
    void nonFiniteFeaturesAreCountedBeforeTheEigendecomposition() {
        float[] a = uniform(new Random(11), 10, 4);
        float[] b = uniform(new Random(12), 10, 4);
        a[4] = Float.NaN; // row 1
        a[13] = Float.POSITIVE_INFINITY; // row 3
        a[14] = Float.NaN; // row 3 again
        // libtorch alone fails here with "linalg.eigh: The algorithm failed to converge"
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FrechetDistance.of(b, 10, a,
                10, 4));
        assertEquals("second set: 2 of 10 vectors hold NaN or infinite values; a Fréchet distance needs finite "
                + "features", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FrechetDistance.Statistics.of(a, 10, 4));
        assertTrue(e.getMessage().startsWith("features: 2 of 10 vectors"), e.getMessage());
    }
}
