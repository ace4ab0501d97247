/**
 * diffusers' {@code AutoencoderKL} (the image VAE of Stable Diffusion, SD3, PixArt and FLUX.1) over libtorch, under
 * diffusers' state-dict keys: {@link io.ditcache.model.vae.Vaes} checks a {@code vae/} folder's config against its
 * weights' header and loads it; {@link io.ditcache.model.vae.AutoencoderKL} decodes latents as the pipelines do
 * ({@code latents / scaling_factor + shift_factor}) and encodes images to the posterior's mean and log-variance;
 * {@link io.ditcache.model.vae.VaeImages} turns decoded tensors into 8-bit pixels and PNG files as diffusers'
 * {@code VaeImageProcessor} does.
 */
package io.ditcache.model.vae;
