package io.ditcache.model.mochi;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.ComputeType;
import io.ditcache.model.DenoiserFamily;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.layers.Weights;
import io.ditcache.io.MemoryBudget;
import java.io.IOException;
import java.util.Set;

/**
 * The Mochi 1 family: diffusers' {@code MochiTransformer3DModel}, built as a {@link MochiModel}. Registered for
 * {@link io.ditcache.model.ModelLoader} in {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class MochiFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(MochiConfig.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}) and against the weights' header and memory, then every weight
     * (missing, unexpected, shape, dtype) before any is copied in, one tensor at a time, as float32.
     */
    @Override
    public MochiModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public MochiModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        MochiConfig mochi = config(config);
        MochiLayoutCheck.check(mochi, config.source(), ckpt, budget);
        Weights.check(mochi.parameterShapes(), ckpt, MochiConfig.CLASS_NAME);
        MochiModel model = Weights.build(type.scalarType(), () -> new MochiModel(mochi));
        Weights.load(model, mochi.parameterShapes(), ckpt, MochiConfig.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        MochiConfig mochi = config(config);
        return new ModelDescription(MochiConfig.CLASS_NAME, mochi.parameterShapes(), mochi.blockLayout());
    }

    /**
     * The Mochi configuration of a diffusers {@code MochiTransformer3DModel} config (diffusers' defaults for absent
     * keys), its sizes checked; not yet against weights or memory.
     *
     * @throws CheckpointException naming the config file, the key, its value and what was expected
     */
    public static MochiConfig config(DiffusersConfig c) throws CheckpointException {
        String qkNorm = c.stringValue("qk_norm", "rms_norm");
        if (!qkNorm.equals("rms_norm")) {
            throw new CheckpointException(c.source() + ": qk_norm is \"" + qkNorm + "\", expected \"rms_norm\" for "
                    + MochiConfig.CLASS_NAME);
        }
        String act = c.stringValue("activation_fn", "swiglu");
        if (!act.equals("swiglu")) {
            throw new CheckpointException(c.source() + ": activation_fn is \"" + act + "\", expected \"swiglu\" for "
                    + MochiConfig.CLASS_NAME);
        }
        int inChannels = c.intValue("in_channels", 12);
        try {
            return new MochiConfig(c.intValue("patch_size", 2), c.intValue("num_attention_heads", 24),
                    c.intValue("attention_head_dim", 128), c.intValue("num_layers", 48),
                    c.intValue("pooled_projection_dim", 1536), inChannels, c.intValue("out_channels", inChannels),
                    c.intValue("text_embed_dim", 4096), c.intValue("time_embed_dim", 256),
                    c.intValue("max_sequence_length", 256));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }
}
