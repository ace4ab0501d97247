package io.ditcache.bench;

/**
 * Fidelity on decoded pictures, beside the latent-space figures of a {@link ShootoutRow}: the cached run's final
 * latents and the uncached run's, both decoded by the pipeline's VAE and clamped to [-1, 1], compared as cache-dit
 * compares its caches' images.
 *
 * @param psnr PSNR over all pixels (dB, data range 2; +Infinity when identical)
 * @param ssim mean SSIM over each channel of each picture (NaN for pictures smaller than SSIM's window)
 */
public record PixelFidelity(double psnr, double ssim) {
    /**
     * What turns a run's final latents into pictures.
     */
    @FunctionalInterface
    public interface Decoder {
        /**
         * Decodes {@code samples} final latents, one after the other in {@code latents}.
         *
         * @return the pictures {@code [samples, channels, height, width]}, about [-1, 1]
         */
        Pictures decode(float[] latents, int samples);
    }

    /**
     * Decoded pictures.
     *
     * @param values   {@code [samples, channels, height, width]} values
     * @param channels channels per picture
     * @param height   rows
     * @param width    columns
     */
    public record Pictures(float[] values, int channels, int height, int width) {
    }
}
