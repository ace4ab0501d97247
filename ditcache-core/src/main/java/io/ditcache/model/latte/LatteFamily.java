package io.ditcache.model.latte;

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
 * The Latte family: diffusers' {@code LatteTransformer3DModel}, built as a {@link LatteModel}. Registered for
 * {@link io.ditcache.model.ModelLoader} in {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class LatteFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(LatteConfig.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}), then against the weights' header and memory, then every weight
     * (missing, unexpected, shape, dtype) before any is copied in, one at a time.
     */
    @Override
    public LatteModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public LatteModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        LatteConfig latte = config(config);
        LatteLayoutCheck.check(latte, config.source(), ckpt, budget);
        Weights.check(latte.parameterShapes(), ckpt, LatteConfig.CLASS_NAME);
        LatteModel model = Weights.build(type.scalarType(), () -> new LatteModel(latte));
        Weights.load(model, latte.parameterShapes(), ckpt, LatteConfig.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout of {@code config}'s model, without building it. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        LatteConfig latte = config(config);
        return new ModelDescription(LatteConfig.CLASS_NAME, latte.parameterShapes(), latte.blockLayout());
    }

    /**
     * The Latte configuration of a diffusers {@code LatteTransformer3DModel} config, with diffusers' defaults for
     * absent keys, its fixed choices checked ({@code norm_type} ada_norm_single, {@code activation_fn}
     * gelu-approximate or gelu, no affine norms, a caption projection) and its sizes checked (positive,
     * consistent, no overflow); not yet against weights or memory.
     *
     * @throws CheckpointException naming the config file, the key, the value and what was expected
     */
    public static LatteConfig config(DiffusersConfig c) throws CheckpointException {
        String norm = c.stringValue("norm_type", "layer_norm");
        if (!"ada_norm_single".equals(norm)) {
            throw new CheckpointException(c.source() + ": norm_type is \"" + norm + "\", expected \"ada_norm_single\""
                    + " for " + LatteConfig.CLASS_NAME + " (its forward always calls adaln_single)");
        }
        if (c.boolValue("norm_elementwise_affine", true)) {
            throw new CheckpointException(c.source() + ": norm_elementwise_affine is true (or absent: diffusers' "
                    + "default true), expected false for " + LatteConfig.CLASS_NAME);
        }
        if (!c.has("caption_channels")) {
            throw new CheckpointException(c.source() + ": caption_channels is " + (c.raw().containsKey(
                    "caption_channels") ? "null" : "absent") + ", expected the text encoder's width (4096 for "
                    + "T5-XXL)");
        }
        if (!c.has("cross_attention_dim")) {
            throw new CheckpointException(c.source() + ": cross_attention_dim is " + (c.raw().containsKey(
                    "cross_attention_dim") ? "null" : "absent") + ", expected the inner dim: "
                    + LatteConfig.CLASS_NAME + " without cross-attention is not supported");
        }
        if (!c.has("patch_size")) {
            throw new CheckpointException(c.source() + ": patch_size is " + (c.raw().containsKey("patch_size")
                    ? "null" : "absent") + ", expected a number (diffusers' default None builds no patch embedding)");
        }
        if (!c.has("in_channels")) {
            throw new CheckpointException(c.source() + ": in_channels is " + (c.raw().containsKey("in_channels")
                    ? "null" : "absent") + ", expected the latent channels");
        }
        double dropout = c.doubleValue("dropout", 0.0);
        if (dropout != 0.0) {
            throw new CheckpointException(c.source() + ": dropout is " + dropout + ", expected 0.0 (inference)");
        }
        int inChannels = c.intValue("in_channels");
        // diffusers: out_channels null means in_channels
        int outChannels = c.has("out_channels") ? c.intValue("out_channels") : inChannels;
        try {
            return new LatteConfig(c.intValue("sample_size", 64), c.intValue("patch_size"), inChannels, outChannels,
                    c.intValue("num_layers", 1), c.intValue("num_attention_heads", 16),
                    c.intValue("attention_head_dim", 88), c.intValue("cross_attention_dim"),
                    c.intValue("caption_channels"), c.doubleValue("norm_eps", 1e-5),
                    c.boolValue("attention_bias", false), c.stringValue("activation_fn", "geglu"),
                    c.intValue("video_length", 16), c.intValue("num_embeds_ada_norm", 1000));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }
}
