package io.ditcache.bench;

import java.util.Map;

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
 */
public record ShootoutRow(String policy, String params, double speedup, double skippedFraction, double psnr,
        double ssim, double maxAbsErr, double classAccuracy, double fd, double seconds, double baselineSeconds,
        Map<String, Object> cache) {
}
