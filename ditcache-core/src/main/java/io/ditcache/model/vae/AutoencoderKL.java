package io.ditcache.model.vae;

import io.ditcache.internal.Tensors;
import io.ditcache.model.ComputeType;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code AutoencoderKL}: an {@code encoder}, a {@code decoder} and, where the config asks for them,
 * the 1x1 {@code quant_conv} and {@code post_quant_conv}, under diffusers' state-dict keys. Load one with
 * {@link Vaes#load}.
 *
 * <p>Inputs and outputs are float32 whatever the {@link ComputeType}: they are converted at entry and exit. The
 * batch is run one sample at a time (diffusers' "slicing"; every layer acts per sample, so the result is the same)
 * and each intermediate is freed as soon as the next exists: decoding a 1024x1024 FLUX.1 image holds the weights,
 * the output and a few full-size activations of one sample.
 */
public final class AutoencoderKL extends Module {
    private static final double LOGVAR_MIN = -30.0;
    private static final double LOGVAR_MAX = 20.0;

    private final VaeConfig config;
    private final ComputeType type;
    private final VaeEncoder encoder;
    private final VaeDecoder decoder;
    private final Conv quantConv;
    private final Conv postQuantConv;

    AutoencoderKL(VaeConfig config, ComputeType type) {
        this.config = config;
        this.type = type;
        encoder = register_module("encoder", new VaeEncoder(config));
        decoder = register_module("decoder", new VaeDecoder(config));
        long latent = config.latentChannels();
        quantConv = config.useQuantConv() ? register_module("quant_conv", new Conv(2 * latent, 2 * latent, 1))
                : null;
        postQuantConv = config.usePostQuantConv() ? register_module("post_quant_conv", new Conv(latent, latent, 1))
                : null;
    }

    /** The configuration the model was built from. */
    public VaeConfig config() {
        return config;
    }

    /** The dtype the weights are held and computed in. */
    public ComputeType computeType() {
        return type;
    }

    /** Height and width of the images relative to the latents: {@code 2^(blocks - 1)}. */
    public int scale() {
        return 1 << config.downsamplings();
    }

    /**
     * Decodes latents as the pipelines do after denoising: {@code latents / scaling_factor + shift_factor}, then
     * the decoder.
     *
     * @param latents {@code [N, latent_channels, h, w]}, any floating dtype (left to the caller)
     * @return float32 images {@code [N, out_channels, h * f, w * f]}, about [-1, 1]; the caller owns it
     * @throws IllegalArgumentException naming the shape when it is not a batch of latents of this VAE
     * @throws IllegalStateException    when the config sets {@code latents_mean} / {@code latents_std}: pipelines
     *                                  un-scale those in different ways (un-scale them, then call
     *                                  {@link #decodeUnscaled})
     */
    public Tensor decode(Tensor latents) {
        checkInput("latents", latents, config.latentChannels(), 1);
        if (!config.latentsMean().isEmpty() || !config.latentsStd().isEmpty()) {
            throw new IllegalStateException(VaeConfig.CLASS_NAME + ": the config sets latents_mean and latents_std, "
                    + "which pipelines un-scale in different ways, not as latents / scaling_factor + shift_factor; "
                    + "un-scale the latents as the pipeline does and decode them with decodeUnscaled");
        }
        Tensor out;
        try (NoGradGuard guard = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Tensor z = latents.to(ScalarType.Float).div(new Scalar(config.scalingFactor()))
                    .add(new Scalar(config.shiftFactor()));
            out = decodeUnscaled(z);
            out.retainReference();
        }
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(out);
            out.releaseReference();
        }
        return out;
    }

    /**
     * The decoder alone ({@code post_quant_conv}, if any, then the decoder) on latents already unscaled:
     * diffusers' {@code vae.decode(z).sample}.
     *
     * @param z {@code [N, latent_channels, h, w]} (left to the caller)
     * @return float32 {@code [N, out_channels, h * f, w * f]}; the caller owns it
     */
    public Tensor decodeUnscaled(Tensor z) {
        checkInput("latents", z, config.latentChannels(), 1);
        long n = z.size(0);
        Tensor out = torch.empty(new long[] {n, config.outChannels(), z.size(2) * scale(), z.size(3) * scale()},
                new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
        try (NoGradGuard guard = new NoGradGuard()) {
            for (long i = 0; i < n; i++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor h = z.narrow(0, i, 1).to(type.scalarType());
                    if (postQuantConv != null) {
                        h = postQuantConv.forward(h);
                    }
                    Tensor image = decoder.forward(h);
                    out.narrow(0, i, 1).copy_(image);
                }
            }
        }
        return out;
    }

    /**
     * Encodes images to the posterior: diffusers' {@code vae.encode(images).latent_dist}'s mean and log-variance.
     *
     * @param images {@code [N, in_channels, H, W]} in [-1, 1], H and W multiples of {@link #scale()} (left to the
     *               caller)
     * @throws IllegalArgumentException naming the shape when it is not a batch of images this VAE encodes
     */
    public Posterior encode(Tensor images) {
        checkInput("images", images, config.inChannels(), scale());
        long n = images.size(0);
        long latent = config.latentChannels();
        long[] shape = {n, latent, images.size(2) / scale(), images.size(3) / scale()};
        Tensor mean = torch.empty(shape, new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
        Tensor logvar = torch.empty(shape, new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
        try (NoGradGuard guard = new NoGradGuard()) {
            for (long i = 0; i < n; i++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor moments = encoder.forward(images.narrow(0, i, 1).to(type.scalarType()));
                    if (quantConv != null) {
                        moments = quantConv.forward(moments);
                    }
                    mean.narrow(0, i, 1).copy_(moments.narrow(1, 0, latent));
                    logvar.narrow(0, i, 1).copy_(torch.clamp(moments.narrow(1, latent, latent).to(ScalarType.Float),
                            new ScalarOptional(new Scalar(LOGVAR_MIN)), new ScalarOptional(new Scalar(LOGVAR_MAX))));
                }
            }
        }
        return new Posterior(mean, logvar);
    }

    private void checkInput(String what, Tensor x, long channels, long multiple) {
        long[] s = Tensors.shape(x);
        if (s.length != 4 || s[1] != channels || s[0] < 1 || s[2] < 1 || s[3] < 1 || s[2] % multiple != 0
                || s[3] % multiple != 0 || !x.is_floating_point()) {
            throw new IllegalArgumentException(VaeConfig.CLASS_NAME + ": " + what + " have shape "
                    + java.util.Arrays.toString(s) + " (" + x.scalar_type().intern() + "), expected floating point [N, "
                    + channels + ", H, W]" + (multiple > 1 ? " with H and W multiples of " + multiple : ""));
        }
    }
}
