package io.ditcache.model.pixart;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import io.ditcache.model.DenoiserFamily;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.util.Set;

/**
 * The PixArt-α family: diffusers' {@code PixArtTransformer2DModel}, built as a {@link PixArtModel}. Registered for
 * {@link io.ditcache.model.ModelLoader} in {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class PixArtFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(PixArtConfig.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}), then against the weights' header and memory, then every weight
     * (missing, unexpected, shape, dtype) before any is copied in, one at a time.
     */
    @Override
    public PixArtModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public PixArtModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        PixArtConfig pixart = config(config);
        PixArtLayoutCheck.check(pixart, config.source(), ckpt, budget);
        Weights.check(pixart.parameterShapes(), ckpt, PixArtConfig.CLASS_NAME);
        PixArtModel model = Weights.build(type.scalarType(), () -> new PixArtModel(pixart));
        Weights.load(model, pixart.parameterShapes(), ckpt, PixArtConfig.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout of {@code config}'s model, without building it. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        PixArtConfig pixart = config(config);
        return new ModelDescription(PixArtConfig.CLASS_NAME, pixart.parameterShapes(), pixart.blockLayout());
    }

    /**
     * The PixArt configuration of a diffusers {@code PixArtTransformer2DModel} config, with diffusers' defaults
     * for absent keys, its fixed choices checked ({@code norm_type} ada_norm_single, {@code activation_fn}
     * gelu-approximate, {@code attention_type} default, no affine norms, no upcast) and its sizes checked
     * (positive, consistent, no overflow); not yet against weights or memory.
     *
     * @throws CheckpointException naming the config file, the key, the value and what was expected
     */
    public static PixArtConfig config(DiffusersConfig c) throws CheckpointException {
        require(c, "norm_type", "ada_norm_single");
        require(c, "activation_fn", "gelu-approximate");
        require(c, "attention_type", "default");
        if (c.boolValue("norm_elementwise_affine", false)) {
            throw new CheckpointException(c.source() + ": norm_elementwise_affine is true, expected false for "
                    + PixArtConfig.CLASS_NAME);
        }
        if (c.boolValue("upcast_attention", false)) {
            throw new CheckpointException(c.source() + ": upcast_attention is true, expected false for "
                    + PixArtConfig.CLASS_NAME);
        }
        if (!c.has("num_embeds_ada_norm") && c.raw().containsKey("num_embeds_ada_norm")) {
            throw new CheckpointException(c.source() + ": num_embeds_ada_norm is null, expected a number (diffusers "
                    + "requires it with ada_norm_single)");
        }
        if (!c.has("caption_channels")) {
            throw new CheckpointException(c.source() + ": caption_channels is " + (c.raw().containsKey(
                    "caption_channels") ? "null" : "absent") + ", expected the text encoder's width (4096 for "
                    + "T5-XXL): " + PixArtConfig.CLASS_NAME + " without caption_projection is not supported");
        }
        if (!c.has("cross_attention_dim") && c.raw().containsKey("cross_attention_dim")) {
            throw new CheckpointException(c.source() + ": cross_attention_dim is null, expected the inner dim: "
                    + PixArtConfig.CLASS_NAME + " without cross-attention is not supported");
        }
        int sampleSize = c.intValue("sample_size", 128);
        int inChannels = c.intValue("in_channels", 4);
        // diffusers: out_channels defaults to 8, and null means in_channels
        boolean outNull = !c.has("out_channels") && c.raw().containsKey("out_channels");
        int outChannels = outNull ? inChannels : c.intValue("out_channels", 8);
        // diffusers: use_additional_conditions null means sample_size == 128
        boolean additional = c.boolValue("use_additional_conditions", sampleSize == 128);
        double interpolation = c.doubleValue("interpolation_scale",
                PixArtConfig.defaultInterpolationScale(sampleSize));
        try {
            return new PixArtConfig(sampleSize, c.intValue("patch_size", 2), inChannels,
                    outChannels, c.intValue("num_layers", 28),
                    c.intValue("num_attention_heads", 16), c.intValue("attention_head_dim", 72),
                    c.intValue("cross_attention_dim", 1152), c.intValue("caption_channels"),
                    c.doubleValue("norm_eps", 1e-6), c.boolValue("attention_bias", true), additional,
                    interpolation, c.intValue("num_embeds_ada_norm", 1000));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }

    private static void require(DiffusersConfig c, String key, String value) throws CheckpointException {
        String got = c.stringValue(key, value);
        if (!value.equals(got)) {
            throw new CheckpointException(c.source() + ": " + key + " is \"" + got + "\", expected \"" + value
                    + "\" for " + PixArtConfig.CLASS_NAME);
        }
    }
}
