package io.ditcache.bench;

import java.util.Map;
import java.util.Objects;

/**
 * The measured verdict on one policy setting, against uncached sampling of the same conditions and seeds.
 *
 * @param policy          policy name
 * @param params          its parameters
 * @param speedup         median uncached wall time / median cached wall time (runs interleaved)
 * @param skippedFraction fraction of block evaluations skipped ({@link io.ditcache.CacheStats#skippedFraction()})
 * @param psnr            PSNR of the cached samples against the uncached ones, over all pixels (dB, data range 2;
 *                        +Infinity when identical)
 * @param ssim            mean SSIM of cached vs uncached samples (NaN for images smaller than SSIM's window)
 * @param maxAbsErr       largest absolute pixel difference
 * @param classAccuracy   class accuracy of the cached samples (NaN without a judge)
 * @param fd              Fréchet distance of the cached samples to the reference features (NaN without a judge)
 * @param seconds         median wall time of one cached sampling run
 * @param baselineSeconds median wall time of one uncached run, measured interleaved with this case
 * @param cache           {@link io.ditcache.CacheStats#summary()} of the measured run
 * @param spread          the speedups of the single timed pairs (uncached over cached run)
 * @param noise           true when the speedup stayed above what the skipped share allows after re-measuring
 *                        ({@link #speedupCeiling()}): the timings are noise of a busy machine, and the row is kept
 *                        off the Pareto front
 * @param perSample       per-sample fidelity (median and 10th percentile PSNR, SSIM, class changes) with bootstrap
 *                        intervals; {@link SampleFidelity#UNKNOWN} for a row of figures known otherwise
 * @param pixels          fidelity on the decoded pictures, for a model whose pipeline has a VAE; null otherwise
 */
public record ShootoutRow(String policy, String params, double speedup, double skippedFraction, double psnr,
        double ssim, double maxAbsErr, double classAccuracy, double fd, double seconds, double baselineSeconds,
        Map<String, Object> cache, Spread spread, boolean noise, SampleFidelity perSample, PixelFidelity pixels) {
    /** What a row whose speedup its skipped share cannot explain says. */
    public static final String NOISE_NOTE = "noise: machine too busy";

    public ShootoutRow {
        Objects.requireNonNull(spread, "spread");
        Objects.requireNonNull(perSample, "perSample");
    }

    /** A row without fidelity on decoded pictures. */
    public ShootoutRow(String policy, String params, double speedup, double skippedFraction, double psnr,
            double ssim, double maxAbsErr, double classAccuracy, double fd, double seconds, double baselineSeconds,
            Map<String, Object> cache, Spread spread, boolean noise, SampleFidelity perSample) {
        this(policy, params, speedup, skippedFraction, psnr, ssim, maxAbsErr, classAccuracy, fd, seconds,
                baselineSeconds, cache, spread, noise, perSample, null);
    }

    /** A row without per-sample figures. */
    public ShootoutRow(String policy, String params, double speedup, double skippedFraction, double psnr,
            double ssim, double maxAbsErr, double classAccuracy, double fd, double seconds, double baselineSeconds,
            Map<String, Object> cache, Spread spread, boolean noise) {
        this(policy, params, speedup, skippedFraction, psnr, ssim, maxAbsErr, classAccuracy, fd, seconds,
                baselineSeconds, cache, spread, noise, SampleFidelity.UNKNOWN);
    }

    /** The median per-sample PSNR (NaN without per-sample figures). */
    public double psnrMedian() {
        return perSample.psnrMedian();
    }

    /** The 10th percentile of the per-sample PSNR (NaN without per-sample figures). */
    public double psnrP10() {
        return perSample.psnrP10();
    }

    /** The share of samples whose class changed (NaN without a classifier). */
    public double classChanged() {
        return perSample.classChanged();
    }

    /**
     * The PSNR rows are ranked by (Pareto front, chart): the median per-sample PSNR, or the all-pixel PSNR for a row
     * without per-sample figures.
     */
    public double rankingPsnr() {
        return Double.isNaN(perSample.psnrMedian()) ? psnr : perSample.psnrMedian();
    }

    /** A row of one timed pair (or of figures known otherwise): its spread is its speedup, and it is not noise. */
    public ShootoutRow(String policy, String params, double speedup, double skippedFraction, double psnr,
            double ssim, double maxAbsErr, double classAccuracy, double fd, double seconds, double baselineSeconds,
            Map<String, Object> cache) {
        this(policy, params, speedup, skippedFraction, psnr, ssim, maxAbsErr, classAccuracy, fd, seconds,
                baselineSeconds, cache, new Spread(speedup, speedup, speedup, 1), false);
    }

    /**
     * The spread of the speedups of single timed pairs: each pair is one uncached and one cached run, back to back.
     *
     * @param min    the lowest
     * @param median the median
     * @param max    the highest
     * @param pairs  how many pairs were timed (the repeats, and those of any re-measurement)
     */
    public record Spread(double min, double median, double max, int pairs) {
        /** The spread of {@code speedups}, one per pair. */
        public static Spread of(double[] speedups) {
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (double s : speedups) {
                lo = Math.min(lo, s);
                hi = Math.max(hi, s);
            }
            return speedups.length == 0 ? new Spread(Double.NaN, Double.NaN, Double.NaN, 0)
                    : new Spread(lo, Shootout.median(speedups), hi, speedups.length);
        }
    }

    /**
     * The most speedup skipping {@link #skippedFraction()} of the block evaluations can give when everything else
     * of a step costs nothing: {@code 1 / (1 - skipped)} ({@link Shootout#speedupCeiling}).
     */
    public double speedupCeiling() {
        return Shootout.speedupCeiling(skippedFraction, 0);
    }

    /** {@link #NOISE_NOTE} for a noise row, else empty. */
    public String note() {
        return noise ? NOISE_NOTE : "";
    }
}
