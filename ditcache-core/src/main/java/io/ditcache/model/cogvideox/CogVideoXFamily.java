package io.ditcache.model.cogvideox;

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
 * The CogVideoX family (1.0 and 1.5): diffusers' {@code CogVideoXTransformer3DModel}, built as a
 * {@link CogVideoXModel}. Registered for {@link io.ditcache.model.ModelLoader} in
 * {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class CogVideoXFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(CogVideoXConfig.CLASS_NAME);
    }

    /**
     * The configuration checked ({@link #config}), against memory and against the weights' header
     * ({@link CogVideoXLayoutCheck}), then every weight (missing, unexpected,
     * shape, dtype) before any is copied in, one tensor at a time, as float32.
     */
    @Override
    public CogVideoXModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public CogVideoXModel load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        CogVideoXConfig c = config(config);
        checkMemory(c, config.source() + ": ", budget);
        CogVideoXLayoutCheck.check(c, config.source(), ckpt);
        Weights.check(c.parameterShapes(), ckpt, CogVideoXConfig.CLASS_NAME);
        CogVideoXModel model = Weights.build(type.scalarType(), () -> new CogVideoXModel(c));
        Weights.load(model, c.parameterShapes(), ckpt, CogVideoXConfig.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        CogVideoXConfig c = config(config);
        return new ModelDescription(CogVideoXConfig.CLASS_NAME, c.parameterShapes(), c.blockLayout());
    }

    /** Refuses a configuration whose float32 weights do not fit in memory, before anything is built. */
    static void checkMemory(CogVideoXConfig c, String prefix, MemoryBudget budget) throws CheckpointException {
        long weights = MemoryBudget.times(c.parameterCount(), Float.BYTES);
        String shortfall = budget.shortfall(0, weights);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " at inner dim " + c.innerDim()
                    + " is " + MemoryBudget.bytes(weights) + " of float32 weights: loading " + shortfall);
        }
    }

    /**
     * The configuration of a diffusers {@code CogVideoXTransformer3DModel} config (diffusers' defaults for absent
     * keys), its sizes checked; features this port does not implement are refused naming the key.
     *
     * @throws CheckpointException naming the config file, the key, its value and what was expected
     */
    public static CogVideoXConfig config(DiffusersConfig c) throws CheckpointException {
        String src = c.source() + ": ";
        String act = c.stringValue("activation_fn", "gelu-approximate");
        if (!act.equals("gelu-approximate")) {
            throw new CheckpointException(src + "activation_fn is \"" + act + "\", expected \"gelu-approximate\"");
        }
        String tact = c.stringValue("timestep_activation_fn", "silu");
        if (!tact.equals("silu")) {
            throw new CheckpointException(src + "timestep_activation_fn is \"" + tact + "\", expected \"silu\"");
        }
        if (!c.boolValue("norm_elementwise_affine", true)) {
            throw new CheckpointException(src + "norm_elementwise_affine is false, expected true (every CogVideoX "
                    + "checkpoint has affine norms)");
        }
        if (c.has("ofs_embed_dim") && c.intValue("ofs_embed_dim") != 0) {
            throw new CheckpointException(src + "ofs_embed_dim is " + c.intValue("ofs_embed_dim") + ", expected null "
                    + "(the image-to-video ofs embedding is not supported)");
        }
        if (c.boolValue("use_learned_positional_embeddings", false)) {
            throw new CheckpointException(src + "use_learned_positional_embeddings is true, expected false (the "
                    + "image-to-video learned position table is not supported)");
        }
        int patchT = c.has("patch_size_t") ? c.intValue("patch_size_t") : 0;
        boolean patchBias = c.boolValue("patch_bias", true);
        if (patchT == 0 && !patchBias) {
            throw new CheckpointException(src + "patch_bias is false with patch_size_t null, expected true (a patch "
                    + "convolution without bias is not supported)");
        }
        if (c.has("patch_size_t") && patchT < 1) {
            throw new CheckpointException(src + "patch_size_t is " + patchT + ", expected null or >= 1");
        }
        int in = c.intValue("in_channels", 16);
        try {
            return new CogVideoXConfig(c.intValue("num_attention_heads", 30), c.intValue("attention_head_dim", 64),
                    in, c.has("out_channels") ? c.intValue("out_channels") : in,
                    c.boolValue("flip_sin_to_cos", true), c.intValue("freq_shift", 0),
                    c.intValue("time_embed_dim", 512), c.intValue("text_embed_dim", 4096),
                    c.intValue("num_layers", 30), c.boolValue("attention_bias", true),
                    c.intValue("sample_width", 90), c.intValue("sample_height", 60), c.intValue("sample_frames", 49),
                    c.intValue("patch_size", 2), patchT, c.intValue("temporal_compression_ratio", 4),
                    c.intValue("max_text_seq_length", 226), c.doubleValue("norm_eps", 1e-5),
                    c.doubleValue("spatial_interpolation_scale", 1.875),
                    c.doubleValue("temporal_interpolation_scale", 1.0),
                    c.boolValue("use_rotary_positional_embeddings", false), patchBias);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }
}
