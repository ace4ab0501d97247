package io.ditcache.model.flux;

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
import java.util.Map;
import java.util.Set;

/**
 * The FLUX.1 family: diffusers' {@code FluxTransformer2DModel} (FLUX.1-dev, FLUX.1-schnell), built as a
 * {@link FluxModel}. Registered for {@link io.ditcache.model.ModelLoader} in
 * {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class FluxFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(FluxConfig.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}), against the weights' header and memory, and every weight
     * (missing, unexpected, shape, dtype) before the model is built; then the weights copied in one at a time.
     */
    @Override
    public FluxModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public FluxModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        FluxConfig flux = config(config);
        FluxLayoutCheck.check(flux, config.source(), ckpt, budget);
        Map<String, long[]> shapes = flux.parameterShapes();
        Weights.check(shapes, ckpt, FluxConfig.CLASS_NAME);
        FluxModel model = Weights.build(type.scalarType(), () -> new FluxModel(flux));
        Weights.load(model, shapes, ckpt, FluxConfig.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout of {@code config}'s model, without building it. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        FluxConfig flux = config(config);
        return new ModelDescription(FluxConfig.CLASS_NAME, flux.parameterShapes(), flux.blockLayout());
    }

    /**
     * The FLUX configuration of a diffusers {@code FluxTransformer2DModel} config (diffusers' defaults for absent
     * keys: FLUX.1's sizes), its sizes checked; not yet against weights or memory.
     *
     * @throws CheckpointException naming the config file, the key, its value and what was expected
     */
    public static FluxConfig config(DiffusersConfig c) throws CheckpointException {
        int inChannels = c.intValue("in_channels", 64);
        try {
            return new FluxConfig(c.intValue("patch_size", 1), inChannels, c.intValue("out_channels", inChannels),
                    c.intValue("num_layers", 19), c.intValue("num_single_layers", 38),
                    c.intValue("num_attention_heads", 24), c.intValue("attention_head_dim", 128),
                    c.intValue("joint_attention_dim", 4096), c.intValue("pooled_projection_dim", 768),
                    c.boolValue("guidance_embeds", false), c.intList("axes_dims_rope", List.of(16, 56, 56)));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }
}
