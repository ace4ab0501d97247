package io.ditcache.model.dit;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import io.ditcache.model.DenoiserFamily;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * The DiT family: diffusers' {@code DiTTransformer2DModel}, built as a {@link DiTModel}. Registered for
 * {@link io.ditcache.model.ModelLoader} in {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class DiTFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(DiTConfig.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}) and against the weights' header and memory
     * ({@link DiTLayoutCheck}), then every weight (missing, unexpected, shape, dtype) before any is copied in.
     */
    @Override
    public DiTModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public DiTModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        DiTConfig dit = config(config);
        DiTLayoutCheck.check(dit, config.source(), ckpt, budget);
        Map<String, long[]> want = dit.parameterShapes();
        Weights.check(want, ckpt, config.className());
        DiTModel model = Weights.build(type.scalarType(), () -> new DiTModel(dit));
        Weights.load(model, want, ckpt, config.className(), type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout of {@code config}'s model, without building it. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        DiTConfig dit = config(config);
        return new ModelDescription(DiTConfig.CLASS_NAME, dit.parameterShapes(), dit.blockLayout());
    }

    /**
     * The DiT configuration of a diffusers {@code DiTTransformer2DModel} config, with its fixed choices and its
     * sizes checked (positive, consistent, no overflow); not yet against weights or memory.
     */
    public static DiTConfig config(DiffusersConfig c) throws CheckpointException {
        require(c, "norm_type", "ada_norm_zero");
        require(c, "activation_fn", "gelu-approximate");
        if (c.boolValue("norm_elementwise_affine", false)) {
            throw new CheckpointException(c.source() + ": norm_elementwise_affine is true, expected false for "
                    + DiTConfig.CLASS_NAME);
        }
        if (c.boolValue("upcast_attention", false)) {
            throw new CheckpointException(c.source() + ": upcast_attention is true, expected false");
        }
        int inChannels = c.intValue("in_channels", 4);
        Integer outDefault = inChannels;
        try {
            return new DiTConfig(c.intValue("sample_size", 32), c.intValue("patch_size", 2), inChannels,
                    c.intValue("out_channels", outDefault), c.intValue("num_layers", 28),
                    c.intValue("num_attention_heads", 16), c.intValue("attention_head_dim", 72),
                    c.intValue("num_embeds_ada_norm", 1000), c.doubleValue("norm_eps", 1e-5),
                    c.boolValue("attention_bias", true));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }

    private static void require(DiffusersConfig c, String key, String value) throws CheckpointException {
        String got = c.stringValue(key, value);
        if (!value.equals(got)) {
            throw new CheckpointException(c.source() + ": " + key + " is \"" + got + "\", expected \"" + value
                    + "\" for " + DiTConfig.CLASS_NAME);
        }
    }
}
