package io.ditcache.bench;

import io.ditcache.bench.Bootstrap.Interval;
import io.ditcache.quality.ImageMetrics;
import java.util.Objects;

/**
 * Fidelity of cached samples to uncached ones that can rank policies: per sample, not over all pixels at once (where
 * a few samples that change shape dominate), each figure with a bootstrap interval over samples
 * ({@link Bootstrap}, seeded).
 *
 * @param samples          how many samples were compared
 * @param psnr             PSNR over all pixels (data range as the row's), from the mean of the per-sample MSEs
 * @param psnrInterval     its interval
 * @param psnrMedian       median over samples of the per-sample PSNR (dB; +Infinity for identical samples)
 * @param psnrMedianInterval its interval
 * @param psnrP10          10th percentile of the per-sample PSNR: the worst tenth of the samples
 * @param psnrP10Interval  its interval
 * @param ssim             mean over samples of the per-sample SSIM (NaN where SSIM does not apply)
 * @param ssimInterval     its interval
 * @param classChanged     share of samples whose predicted class differs from the uncached sample's (NaN without a
 *                         classifier)
 * @param classChangedInterval its interval
 */
public record SampleFidelity(int samples, double psnr, Interval psnrInterval, double psnrMedian,
        Interval psnrMedianInterval, double psnrP10, Interval psnrP10Interval, double ssim, Interval ssimInterval,
        double classChanged, Interval classChangedInterval) {
    /** The percentile {@link #psnrP10()} is taken at. */
    public static final double LOW_PERCENTILE = 0.10;
    /** Nothing measured per sample (a row made from figures known otherwise). */
    public static final SampleFidelity UNKNOWN = new SampleFidelity(0, Double.NaN, Interval.NONE, Double.NaN,
            Interval.NONE, Double.NaN, Interval.NONE, Double.NaN, Interval.NONE, Double.NaN, Interval.NONE);

    public SampleFidelity {
        Objects.requireNonNull(psnrInterval, "psnrInterval");
        Objects.requireNonNull(psnrMedianInterval, "psnrMedianInterval");
        Objects.requireNonNull(psnrP10Interval, "psnrP10Interval");
        Objects.requireNonNull(ssimInterval, "ssimInterval");
        Objects.requireNonNull(classChangedInterval, "classChangedInterval");
    }

    /**
     * The figures of per-sample measurements.
     *
     * @param mse       per sample, the mean squared error against the uncached sample
     * @param dataRange the PSNR's data range
     * @param ssim      per sample SSIM, or null where it does not apply
     * @param changed   per sample, whether its class changed, or null without a classifier
     */
    public static SampleFidelity of(double[] mse, double dataRange, double[] ssim, boolean[] changed) {
        int n = mse.length;
        if (n == 0 || ssim != null && ssim.length != n || changed != null && changed.length != n) {
            throw new IllegalArgumentException(n + " MSEs, " + (ssim == null ? "no" : ssim.length) + " SSIMs and "
                    + (changed == null ? "no" : changed.length) + " class flags: expected as many, at least 1");
        }
        double[] psnr = new double[n];
        for (int i = 0; i < n; i++) {
            psnr[i] = psnr(mse[i], dataRange);
        }
        double[] flags = null;
        if (changed != null) {
            flags = new double[n];
            for (int i = 0; i < n; i++) {
                flags[i] = changed[i] ? 1 : 0;
            }
        }
        return new SampleFidelity(n, psnr(Bootstrap.mean(mse), dataRange),
                Bootstrap.interval(mse, v -> psnr(Bootstrap.mean(v), dataRange)), Bootstrap.median(psnr),
                Bootstrap.interval(psnr, Bootstrap::median), Bootstrap.percentile(psnr, LOW_PERCENTILE),
                Bootstrap.interval(psnr, v -> Bootstrap.percentile(v, LOW_PERCENTILE)),
                ssim == null ? Double.NaN : Bootstrap.mean(ssim),
                ssim == null ? Interval.NONE : Bootstrap.interval(ssim, Bootstrap::mean),
                flags == null ? Double.NaN : Bootstrap.mean(flags),
                flags == null ? Interval.NONE : Bootstrap.interval(flags, Bootstrap::mean));
    }

    /**
     * The figures of {@code count} cached samples against uncached ones, each sample {@code a.length / count} values.
     *
     * @param ssimShape {@code [channels, height, width]} of a sample for SSIM, or null where it does not apply
     * @param changed   per sample whether its class changed, or null
     */
    public static SampleFidelity of(float[] cached, float[] uncached, int count, double dataRange, int[] ssimShape,
            boolean[] changed) {
        if (cached.length != uncached.length || count < 1 || cached.length % count != 0) {
            throw new IllegalArgumentException(cached.length + " and " + uncached.length + " values do not split "
                    + "into " + count + " samples alike");
        }
        int per = cached.length / count;
        double[] mse = new double[count];
        double[] ssim = ssimShape == null ? null : new double[count];
        for (int i = 0; i < count; i++) {
            double se = 0;
            for (int k = i * per; k < (i + 1) * per; k++) {
                double d = (double) cached[k] - uncached[k];
                se += d * d;
            }
            mse[i] = se / per;
            if (ssim != null) {
                int channels = ssimShape[0];
                int h = ssimShape[1];
                int w = ssimShape[2];
                double sum = 0;
                for (int c = 0; c < channels; c++) {
                    int from = i * per + c * h * w;
                    sum += ImageMetrics.ssim(java.util.Arrays.copyOfRange(cached, from, from + h * w),
                            java.util.Arrays.copyOfRange(uncached, from, from + h * w), h, w, dataRange);
                }
                ssim[i] = sum / channels;
            }
        }
        return of(mse, dataRange, ssim, changed);
    }

    private static double psnr(double mse, double dataRange) {
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(dataRange * dataRange / mse);
    }
}
