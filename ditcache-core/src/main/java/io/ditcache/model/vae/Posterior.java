package io.ditcache.model.vae;

import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * What the encoder makes of images: diffusers' {@code DiagonalGaussianDistribution} as its two tensors, both
 * float32 {@code [N, latent_channels, H / f, W / f]}. The caller owns them.
 *
 * @param mean   the posterior mean ({@code latent_dist.mean}; what {@code latent_dist.mode()} returns)
 * @param logvar the log-variance, clamped to [-30, 20] as diffusers clamps it
 */
public record Posterior(Tensor mean, Tensor logvar) {
    public Posterior {
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(logvar, "logvar");
    }
}
