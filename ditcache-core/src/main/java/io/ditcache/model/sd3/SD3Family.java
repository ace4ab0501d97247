package io.ditcache.model.sd3;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import io.ditcache.model.DenoiserFamily;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * The Stable Diffusion 3 / 3.5 family: diffusers' {@code SD3Transformer2DModel}, built as an {@link SD3Model}.
 * Registered for {@link io.ditcache.model.ModelLoader} in {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class SD3Family implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(SD3Config.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}) and against the weights' header and memory, then every weight
     * (missing, unexpected, shape, dtype) before any is copied in, one tensor at a time, as float32.
     */
    @Override
    public SD3Model load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public SD3Model load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        SD3Config sd3 = config(config);
        SD3LayoutCheck.check(sd3, config.source(), ckpt, budget);
        Weights.check(sd3.stateDictShapes(), ckpt, SD3Config.CLASS_NAME);
        SD3Model model = Weights.build(type.scalarType(), () -> new SD3Model(sd3));
        // the stored position table is a buffer: Weights loads it with the parameters
        Weights.load(model, sd3.stateDictShapes(), ckpt, SD3Config.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes (diffusers' parameters, not the position table buffer) and block layout. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        SD3Config sd3 = config(config);
        return new ModelDescription(SD3Config.CLASS_NAME, sd3.parameterShapes(), sd3.blockLayout());
    }

    /**
     * The SD3 configuration of a diffusers {@code SD3Transformer2DModel} config (diffusers' defaults for absent
     * keys), its sizes checked (positive, consistent, no overflow); not yet against weights or memory.
     *
     * @throws CheckpointException naming the config file, the key, its value and what was expected
     */
    public static SD3Config config(DiffusersConfig c) throws CheckpointException {
        String qkNorm = c.stringValue("qk_norm", null);
        if (qkNorm != null && !qkNorm.equals("rms_norm")) {
            throw new CheckpointException(c.source() + ": qk_norm is \"" + qkNorm + "\", expected null or "
                    + "\"rms_norm\" for " + SD3Config.CLASS_NAME);
        }
        if (!c.has("pos_embed_max_size") && c.raw().containsKey("pos_embed_max_size")) {
            throw new CheckpointException(c.source() + ": pos_embed_max_size is null, expected the size of the "
                    + "stored position table (SD3 checkpoints store it as pos_embed.pos_embed)");
        }
        int inChannels = c.intValue("in_channels", 16);
        List<Integer> dual = c.intList("dual_attention_layers", List.of());
        try {
            return new SD3Config(c.intValue("sample_size", 128), c.intValue("patch_size", 2), inChannels,
                    c.intValue("out_channels", inChannels), c.intValue("num_layers", 18),
                    c.intValue("num_attention_heads", 18), c.intValue("attention_head_dim", 64),
                    c.intValue("joint_attention_dim", 4096), c.intValue("caption_projection_dim", 1152),
                    c.intValue("pooled_projection_dim", 2048), c.intValue("pos_embed_max_size", 96),
                    qkNorm != null, dual);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }
}
