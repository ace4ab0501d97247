package io.ditcache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.bench.Bootstrap.Interval;
import io.ditcache.quality.ImageMetrics;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Per-sample fidelity: percentiles by linear interpolation (numpy's default), a seeded bootstrap that gives the
 * same interval every time and a different one for another seed, intervals that hold the figure, and the figures
 * of constructed samples: the median and 10th percentile of per-sample PSNR, the all-pixel PSNR from the mean MSE,
 * SSIM per sample, and the share of changed classes.
 */
class SampleFidelityTest {
    @Test
    void percentilesInterpolateBetweenOrderStatistics() {
        double[] v = {5, 1, 4, 2, 3};
        assertEquals(3, Bootstrap.median(v));
        assertEquals(1.4, Bootstrap.percentile(v, 0.10), 1e-12, "position 0.4 between 1 and 2");
        assertEquals(1, Bootstrap.percentile(v, 0));
        assertEquals(5, Bootstrap.percentile(v, 1));
        assertEquals(2.5, Bootstrap.median(new double[] {4, 1, 2, 3}), 1e-12);
        double[] withIdentical = {10, 20, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
        assertEquals(Double.POSITIVE_INFINITY, Bootstrap.median(withIdentical));
        assertEquals(Double.POSITIVE_INFINITY, Bootstrap.percentile(withIdentical, 1));
        assertEquals(13, Bootstrap.percentile(withIdentical, 0.1), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.percentile(new double[0], 0.5));
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.percentile(v, 1.5));
    }

    @Test
    void theBootstrapIsDeterministicWithItsSeedAndHoldsTheStatistic() {
        Random r = new Random(3);
        double[] v = new double[100];
        for (int i = 0; i < v.length; i++) {
            v[i] = 30 + 3 * r.nextGaussian();
        }
        Interval a = Bootstrap.interval(v, Bootstrap::median);
        Interval b = Bootstrap.interval(v, Bootstrap::median);
        assertEquals(a, b, "same values, same seed: same interval");
        Interval other = Bootstrap.interval(v, Bootstrap::median, Bootstrap.RESAMPLES, Bootstrap.LEVEL, 99);
        assertNotEquals(a, other, "another seed draws other resamples");
        double median = Bootstrap.median(v);
        assertTrue(a.lo() < median && median < a.hi(), a + " holds " + median);
        // the median of 100 values of spread 3 is known to about 3 * 1.25 / 10: the interval is that wide, roughly
        assertTrue(a.hi() - a.lo() > 0.3 && a.hi() - a.lo() < 2.5, a.toString());
        Interval narrow = Bootstrap.interval(v, Bootstrap::median, Bootstrap.RESAMPLES, 0.5, Bootstrap.SEED);
        assertTrue(narrow.lo() >= a.lo() && narrow.hi() <= a.hi(), "a 50% interval lies inside the 95% one");
        double[] constant = {7, 7, 7};
        assertEquals(new Interval(7, 7), Bootstrap.interval(constant, Bootstrap::mean));
    }

    @Test
    void figuresOfConstructedSamples() {
        // 10 samples of 16 values; sample i differs from the reference by a constant (i + 1) * 0.01, sample 9 by 0.5
        int count = 10;
        int per = 16;
        float[] ref = new float[count * per];
        float[] got = new float[count * per];
        double[] mse = new double[count];
        for (int i = 0; i < count; i++) {
            double d = i == 9 ? 0.5 : (i + 1) * 0.01;
            mse[i] = d * d;
            for (int k = 0; k < per; k++) {
                ref[i * per + k] = (float) (0.1 * k - 0.5);
                got[i * per + k] = (float) (ref[i * per + k] + d);
            }
        }
        boolean[] changed = new boolean[count];
        changed[9] = true;
        changed[3] = true;
        SampleFidelity f = SampleFidelity.of(got, ref, count, 2.0, null, changed);
        double[] psnr = new double[count];
        double meanMse = 0;
        for (int i = 0; i < count; i++) {
            double m = 0;
            for (int k = 0; k < per; k++) {
                double e = (double) got[i * per + k] - ref[i * per + k];
                m += e * e / per;
            }
            psnr[i] = 10 * Math.log10(4 / m);
            meanMse += m / count;
        }
        java.util.Arrays.sort(psnr);
        // sorted: sample 9 (0.5) lowest, then 0.10, 0.09, ...: median between the 5th and 6th, p10 at 0.9
        assertEquals((psnr[4] + psnr[5]) / 2, f.psnrMedian(), 1e-9);
        assertEquals(psnr[0] + 0.9 * (psnr[1] - psnr[0]), f.psnrP10(), 1e-9);
        assertEquals(10 * Math.log10(4 / meanMse), f.psnr(), 1e-9, "all pixels: from the mean MSE");
        assertEquals(ImageMetrics.psnr(got, ref, 2.0), f.psnr(), 1e-6, "as the all-pixel PSNR of the row");
        assertTrue(f.psnr() < f.psnrP10(), "one bad sample drags the all-pixel figure below 9 of 10 samples");
        assertEquals(0.2, f.classChanged(), 1e-15);
        assertTrue(f.classChangedInterval().lo() <= 0.2 && 0.2 <= f.classChangedInterval().hi());
        assertTrue(f.psnrMedianInterval().lo() <= f.psnrMedian() && f.psnrMedian() <= f.psnrMedianInterval().hi());
        assertTrue(f.psnrInterval().lo() <= f.psnr() && f.psnr() <= f.psnrInterval().hi());
        assertTrue(Double.isNaN(f.ssim()) && Double.isNaN(f.ssimInterval().lo()), "no SSIM asked for");
        assertEquals(f, SampleFidelity.of(got, ref, count, 2.0, null, changed), "deterministic");
    }

    @Test
    void ssimIsTakenPerSampleAndIdenticalSamplesAreInfinitelyFaithful() {
        Random r = new Random(5);
        int count = 3;
        int side = 12;
        float[] ref = new float[count * side * side];
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (float) r.nextGaussian() * 0.5f;
        }
        float[] got = ref.clone();
        for (int k = 0; k < side * side; k++) {
            got[2 * side * side + k] += 0.3f * (float) r.nextGaussian();
        }
        SampleFidelity f = SampleFidelity.of(got, ref, count, 2.0, new int[] {1, side, side}, null);
        double last = ImageMetrics.ssim(java.util.Arrays.copyOfRange(got, 2 * side * side, 3 * side * side),
                java.util.Arrays.copyOfRange(ref, 2 * side * side, 3 * side * side), side, side, 2.0);
        assertEquals((1 + 1 + last) / 3, f.ssim(), 1e-12);
        assertEquals(ImageMetrics.meanSsim(got, ref, count, side, side, 2.0), f.ssim(), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, f.psnrMedian(), "two of three samples are identical");
        assertEquals(Double.POSITIVE_INFINITY, f.psnrP10(), "position 0.2 lies between the changed sample and an "
                + "identical one");
        assertTrue(Double.isNaN(f.classChanged()), "no classifier");
    }
}
