package io.ditcache.model.pipeline;

import io.ditcache.internal.Tensors;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.Checkpoint;
import io.ditcache.model.ComputeType;
import io.ditcache.model.vae.AutoencoderKL;
import io.ditcache.model.vae.VaeImages;
import io.ditcache.model.vae.Vaes;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The pictures of a text-to-image pipeline's final latents: its {@code vae/} decodes them as the pipeline does
 * ({@code latents / scaling_factor + shift_factor}, then the decoder; FLUX's latents are already unpacked from
 * 2x2 patches by the sampler, as {@code FluxPipeline._unpack_latents} does), and {@code VaeImageProcessor}'s
 * post-processing makes 8-bit RGB images.
 */
public final class PipelineImages {
    private PipelineImages() {
    }

    /**
     * Whether the pipeline folder can decode latents of {@code sampleShape}: it has a VAE ({@code AutoencoderKL})
     * and the latents are images {@code [C, H, W]} (the video families' temporal VAEs are not in ditcache).
     */
    public static boolean decodes(PipelineFolder p, long[] sampleShape) {
        return sampleShape.length == 3 && p.component(PipelineFolder.VAE)
                .filter(c -> c.className().equals("AutoencoderKL")).isPresent();
    }

    /**
     * Checks, from the VAE's config alone, that it decodes latents of {@code sampleShape} {@code [C, H, W]}.
     *
     * @throws io.ditcache.io.CheckpointException naming the VAE's config: latent channels that differ from the
     *                                            transformer's
     */
    public static void check(PipelineFolder p, long[] sampleShape) throws IOException {
        java.nio.file.Path file = p.require(PipelineFolder.VAE, "to decode latents").dir().resolve(Checkpoint.CONFIG);
        int channels = Vaes.config(io.ditcache.io.DiffusersConfig.read(file)).latentChannels();
        if (channels != sampleShape[0]) {
            throw new io.ditcache.io.CheckpointException(file + ": latent_channels is " + channels + ", but the "
                    + "transformer in " + p.transformer() + " makes latents of " + sampleShape[0] + " channel"
                    + (sampleShape[0] == 1 ? " " : "s ") + Arrays.toString(sampleShape)
                    + "; the VAE is not this pipeline's");
        }
    }

    /**
     * Decodes {@code latents} {@code [N, C, H, W]}, one sample at a time.
     *
     * @throws IOException from the VAE's files, naming them
     * @throws IllegalArgumentException for latents whose channels differ from the VAE's {@code latent_channels}
     */
    public static List<BufferedImage> decode(PipelineFolder p, ComputeType type, float[] latents, long[] shape)
            throws IOException {
        AutoencoderKL vae = vae(p, type);
        long per = Arrays.stream(shape).skip(1).reduce(1, Math::multiplyExact);
        long[] one = shape.clone();
        one[0] = 1;
        List<BufferedImage> out = new ArrayList<>();
        for (int i = 0; i < shape[0]; i++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x = Tensors.fromFloats(Arrays.copyOfRange(latents, (int) (i * per), (int) ((i + 1) * per)),
                        one);
                out.addAll(VaeImages.toImages(vae.decode(x)));
            }
        }
        return out;
    }

    /**
     * Decoded pictures.
     *
     * @param values   {@code [samples, channels, height, width]} values, about [-1, 1]
     * @param channels channels per picture
     * @param height   rows
     * @param width    columns
     */
    public record Pictures(float[] values, int channels, int height, int width) {
    }

    /** What turns final latents, one sample after the other, into pictures. */
    @FunctionalInterface
    public interface LatentDecoder {
        /** Decodes {@code samples} final latents laid one after the other in {@code latents}. */
        Pictures decode(float[] latents, int samples);
    }

    /**
     * A decoder for fidelity on pictures (the shootout's): the pipeline's VAE, loaded once, decoding final latents
     * of {@code sampleShape} {@code [C, H, W]} one sample at a time into {@code [N, 3, H * f, W * f]} float32.
     *
     * @throws IOException from the VAE's files, naming them
     */
    public static LatentDecoder decoder(PipelineFolder p, ComputeType type, long[] sampleShape)
            throws IOException {
        AutoencoderKL vae = vae(p, type);
        long per = Arrays.stream(sampleShape).reduce(1, Math::multiplyExact);
        long[] one = new long[sampleShape.length + 1];
        one[0] = 1;
        System.arraycopy(sampleShape, 0, one, 1, sampleShape.length);
        return (latents, samples) -> {
            float[] all = null;
            int c = 0;
            int h = 0;
            int w = 0;
            for (int i = 0; i < samples; i++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = Tensors.fromFloats(Arrays.copyOfRange(latents, (int) (i * per),
                            (int) ((i + 1) * per)), one);
                    Tensor d = vae.decode(x).contiguous();
                    float[] v = Tensors.toFloats(d);
                    if (all == null) {
                        c = (int) d.size(1);
                        h = (int) d.size(2);
                        w = (int) d.size(3);
                        all = new float[Math.multiplyExact(v.length, samples)];
                    }
                    System.arraycopy(v, 0, all, i * v.length, v.length);
                }
            }
            return new Pictures(all, c, h, w);
        };
    }

    private static AutoencoderKL vae(PipelineFolder p, ComputeType type) throws IOException {
        Optional<PipelineFolder.Component> c = p.component(PipelineFolder.VAE);
        if (c.isEmpty()) {
            throw new IllegalArgumentException(p.index() + ": no component \"vae\" to decode latents with");
        }
        try (Checkpoint ckpt = Checkpoint.open(c.get().dir())) {
            return Vaes.load(ckpt, type, MemoryBudget.ofThisMachine());
        }
    }
}
