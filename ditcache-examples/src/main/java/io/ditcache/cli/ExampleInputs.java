package io.ditcache.cli;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DiffusersForward;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInputs;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.model.cogvideox.CogVideoXConfig;
import io.ditcache.model.flux.FluxConfig;
import io.ditcache.model.latte.LatteConfig;
import io.ditcache.model.mochi.MochiConfig;
import io.ditcache.model.pixart.PixArtConfig;
import io.ditcache.model.sd3.SD3Config;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

/**
 * Forward inputs made for a model from its description, for {@code run} without {@code --inputs} and for {@code
 * run --example-inputs FILE}: one sample, every float tensor standard normal from {@link Random} seeded with the
 * seed, the timestep half-way through the training range. A class-label DiT ({@value DiTConfig#CLASS_NAME}) gets
 * its latent shape and class label {@code seed mod classes}; PixArt and SD3 their {@code sample_size} latents and
 * {@value #TEXT_TOKENS} text tokens of random embeddings of the config's width (and PixArt's resolution and aspect
 * ratio where it uses them); FLUX a {@value #FLUX_GRID} x {@value #FLUX_GRID} grid of packed latent tokens with
 * its position ids, text ids of zeros, and guidance 3.5 where it embeds guidance; CogVideoX, Latte and Mochi their
 * default latent video (the shape their sampling starts from) and text of the config's width ({@code
 * max_text_seq_length} tokens for CogVideoX; Mochi with a mask of ones). Random embeddings make a valid forward,
 * not a meaningful prompt. Open-Sora's STDiT3 is not covered: give it {@code --inputs}.
 */
final class ExampleInputs {
    /** Text tokens of the made-up prompt of a text model. */
    static final int TEXT_TOKENS = 8;
    /** Packed latent tokens per side for FLUX (a 256 x 256 image). */
    static final int FLUX_GRID = 16;
    /** The classes made up for; anything else needs {@code --inputs}. */
    static final List<String> FAMILIES = List.of(DiTConfig.CLASS_NAME, PixArtConfig.CLASS_NAME, SD3Config.CLASS_NAME,
            FluxConfig.CLASS_NAME, CogVideoXConfig.CLASS_NAME, LatteConfig.CLASS_NAME, MochiConfig.CLASS_NAME);

    private ExampleInputs() {
    }

    /** Whether inputs can be made for {@code model}. */
    static boolean supports(Denoiser model) {
        String c = model.info().className();
        return FAMILIES.contains(c) && (!c.equals(DiTConfig.CLASS_NAME) || model.info().classes() > 0);
    }

    /**
     * The inputs for {@code model}.
     *
     * @param modelDir its checkpoint directory (its scheduler config bounds the timesteps), null for the embedded one
     * @throws IllegalArgumentException naming the model's class when no inputs can be made for it
     */
    static SafetensorsWriter make(Denoiser model, DiffusersForward forward, Path modelDir, long seed)
            throws IOException {
        if (!supports(model)) {
            throw new IllegalArgumentException("no example inputs for " + model.info().className() + " (they are made "
                    + "for " + String.join(", ", FAMILIES) + "); give --inputs FILE with " + forward.inputNames()
                    + (forward.optionalInputNames().isEmpty() ? "" : " (optional: " + forward.optionalInputNames()
                            + ")"));
        }
        int train = DiTInputs.trainTimesteps(modelDir == null ? null
                : modelDir.resolve(io.ditcache.io.Checkpoint.SCHEDULER_CONFIG));
        Random rnd = new Random(seed);
        Map<String, Object> c = model.info().config();
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt")
                .metadata("ditcache", "example inputs for " + model.info().className() + ", seed " + seed);
        switch (model.info().className()) {
            case PixArtConfig.CLASS_NAME -> {
                long size = number(c, "sample_size", 128);
                long[] latents = {1, number(c, "in_channels", 4), size, size};
                long[] text = {1, TEXT_TOKENS, number(c, "caption_channels", 4096)};
                w.put("hidden_states", normal(rnd, latents), latents)
                        .put("encoder_hidden_states", normal(rnd, text), text)
                        .put("timestep", new long[] {train / 2}, 1);
                if (Boolean.TRUE.equals(c.get("use_additional_conditions"))) {
                    // the pipeline's pixel height and width (8 x the latent) and their ratio
                    w.put("resolution", new float[] {size * 8f, size * 8f}, 1, 2)
                            .put("aspect_ratio", new float[] {1f}, 1, 1);
                }
                return w;
            }
            case SD3Config.CLASS_NAME -> {
                long size = number(c, "sample_size", 128);
                long[] latents = {1, number(c, "in_channels", 16), size, size};
                long[] text = {1, TEXT_TOKENS, number(c, "joint_attention_dim", 4096)};
                long[] pooled = {1, number(c, "pooled_projection_dim", 2048)};
                return w.put("hidden_states", normal(rnd, latents), latents)
                        .put("encoder_hidden_states", normal(rnd, text), text)
                        .put("pooled_projections", normal(rnd, pooled), pooled)
                        .put("timestep", new float[] {train / 2f}, 1);
            }
            case FluxConfig.CLASS_NAME -> {
                int axes = c.get("axes_dims_rope") instanceof List<?> l ? l.size() : 3;
                int tokens = FLUX_GRID * FLUX_GRID;
                float[] imgIds = new float[tokens * axes];
                for (int i = 0; i < tokens && axes >= 3; i++) {
                    imgIds[i * axes + 1] = i / FLUX_GRID; // FluxPipeline: (0, row, column)
                    imgIds[i * axes + 2] = i % FLUX_GRID;
                }
                long[] latents = {1, tokens, number(c, "in_channels", 64)};
                long[] text = {1, TEXT_TOKENS, number(c, "joint_attention_dim", 4096)};
                long[] pooled = {1, number(c, "pooled_projection_dim", 768)};
                w.put("hidden_states", normal(rnd, latents), latents)
                        .put("encoder_hidden_states", normal(rnd, text), text)
                        .put("pooled_projections", normal(rnd, pooled), pooled)
                        .put("timestep", new float[] {train / 2000f}, 1) // FLUX takes the timestep / 1000
                        .put("img_ids", imgIds, tokens, axes)
                        .put("txt_ids", new float[TEXT_TOKENS * axes], TEXT_TOKENS, axes);
                if (Boolean.TRUE.equals(c.get("guidance_embeds"))) {
                    w.put("guidance", new float[] {3.5f}, 1);
                }
                return w;
            }
            case CogVideoXConfig.CLASS_NAME -> {
                return video(model, rnd, w, number(c, "max_text_seq_length", 226), number(c, "text_embed_dim", 4096))
                        .put("timestep", new long[] {train / 2}, 1);
            }
            case LatteConfig.CLASS_NAME -> {
                return video(model, rnd, w, TEXT_TOKENS, number(c, "caption_channels", 4096))
                        .put("timestep", new long[] {train / 2}, 1);
            }
            case MochiConfig.CLASS_NAME -> {
                long[] ones = new long[TEXT_TOKENS];
                Arrays.fill(ones, 1);
                return video(model, rnd, w, TEXT_TOKENS, number(c, "text_embed_dim", 4096))
                        .put("encoder_attention_mask", ones, 1, TEXT_TOKENS)
                        .put("timestep", new float[] {500f}, 1); // Mochi's clock runs 0..1000
            }
            default -> {
                return dit(model, seed, rnd, train, w);
            }
        }
    }

    /**
     * A video model's latents at its default size, in its forward's layout (its {@link Denoiser#latentShape} with
     * a batch of 1), and {@code tokens} text states of {@code width}.
     */
    private static SafetensorsWriter video(Denoiser model, Random rnd, SafetensorsWriter w, long tokens, long width) {
        long[] shape;
        try (PointerScope scope = new PointerScope()) {
            shape = model.latentShape(TextEmbeddings.of(torch.zeros(1, tokens, width)));
        }
        long[] latents = new long[shape.length + 1];
        latents[0] = 1;
        System.arraycopy(shape, 0, latents, 1, shape.length);
        long[] text = {1, tokens, width};
        return w.put("hidden_states", normal(rnd, latents), latents)
                .put("encoder_hidden_states", normal(rnd, text), text);
    }

    /** A class-label DiT's inputs. */
    private static SafetensorsWriter dit(Denoiser model, long seed, Random rnd, int train, SafetensorsWriter w) {
        int classes = model.info().classes();
        long label = Math.floorMod(seed, classes);
        long[] shape = model.latentShape(ClassLabels.of(label));
        long[] dims = new long[shape.length + 1];
        dims[0] = 1;
        System.arraycopy(shape, 0, dims, 1, shape.length);
        return w.put("hidden_states", normal(rnd, dims), dims)
                .put("timestep", new long[] {train / 2}, 1)
                .put("class_labels", new long[] {label}, 1);
    }

    /** Standard normal values for a tensor of {@code dims}, in row-major order. */
    private static float[] normal(Random rnd, long... dims) {
        int n = Math.toIntExact(Arrays.stream(dims).reduce(1, Math::multiplyExact));
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static long number(Map<String, Object> config, String key, long fallback) {
        return config.get(key) instanceof Number n ? n.longValue() : fallback;
    }

    /** The inputs as an in-memory file named {@code source}. */
    static SafetensorsFile open(SafetensorsWriter w, String source) throws IOException {
        Path tmp = Files.createTempFile("ditcache-example-inputs", ".safetensors");
        try {
            w.write(tmp);
            byte[] bytes = Files.readAllBytes(tmp);
            return SafetensorsFile.open(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip(), source);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** "hidden_states [1, 1, 28, 28] F32, timestep [1] I64 = 500, ...": each tensor, and the values of small ones. */
    static String describe(SafetensorsFile f) {
        List<String> out = new ArrayList<>();
        for (String name : f.names()) {
            TensorInfo t = f.info(name);
            String values = "";
            if (t.numel() <= 4 && !t.dtype().isFloatingPoint()) {
                values = " = " + Arrays.stream(f.longs(name)).mapToObj(Long::toString)
                        .collect(Collectors.joining(", "));
            }
            out.add(name + " " + t.shape() + " " + t.dtype() + values);
        }
        return String.join(", ", out);
    }
}
