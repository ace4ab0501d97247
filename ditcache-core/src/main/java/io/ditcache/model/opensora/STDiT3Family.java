package io.ditcache.model.opensora;

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
 * The Open-Sora 1.2 family: {@code STDiT3} from hpcaitech/Open-Sora (commit
 * {@code 8d132d7a84a0fd1966bc4a83a7628d409f453e37}, {@code opensora/models/stdit/stdit3.py}), built as an
 * {@link STDiT3Model}. It has no diffusers class; its {@code config.json} has {@code "_class_name": "STDiT3"} and
 * the fields of Open-Sora's {@code STDiT3Config} ({@link STDiT3Config#diffusersConfig()}); the weights carry
 * Open-Sora's keys ({@code spatial_blocks.0.attn.qkv.weight}, {@code y_embedder.y_embedding}, ...). Registered for
 * {@link io.ditcache.model.ModelLoader} in {@code META-INF/services/io.ditcache.model.DenoiserFamily}.
 */
public final class STDiT3Family implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(STDiT3Config.CLASS_NAME);
    }

    /**
     * The configuration checked, then against the weights' header and memory, then every weight (missing,
     * unexpected, shape, dtype) before any is copied in.
     */
    @Override
    public STDiT3Model load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        return load(ckpt, config, budget, ComputeType.FLOAT32);
    }

    /** As {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)}, the weights converted to {@code type}. */
    @Override
    public STDiT3Model load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        STDiT3Config c = config(config);
        STDiT3LayoutCheck.check(c, config.source(), ckpt, budget);
        Weights.check(c.stateShapes(), ckpt, STDiT3Config.CLASS_NAME);
        STDiT3Model model = Weights.build(type.scalarType(), () -> new STDiT3Model(c));
        Weights.load(model, c.stateShapes(), ckpt, STDiT3Config.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes and block layout of {@code config}'s model, without building it. */
    @Override
    public ModelDescription describe(DiffusersConfig config) throws CheckpointException {
        STDiT3Config c = config(config);
        return new ModelDescription(STDiT3Config.CLASS_NAME, c.parameterShapes(), c.blockLayout());
    }

    /**
     * Reads a config.json with Open-Sora's STDiT3Config keys and defaults ({@code input_size} may be absent or
     * {@code [null, null, null]}).
     *
     * @throws CheckpointException naming the file, key, value and what was expected; also for
     *                             {@code skip_y_embedder} true or {@code enable_sequence_parallelism} true, which
     *                             this port does not support
     */
    public static STDiT3Config config(DiffusersConfig c) throws CheckpointException {
        for (String off : List.of("skip_y_embedder", "enable_sequence_parallelism")) {
            if (c.boolValue(off, false)) {
                throw new CheckpointException(c.source() + ": " + off + " is true, expected false ("
                        + STDiT3Config.CLASS_NAME + " is ported without it)");
            }
        }
        long[] input = null;
        Object raw = c.raw().get("input_size");
        if (raw instanceof List<?> l && l.stream().allMatch(v -> v != null)) {
            List<Integer> ints = c.intList("input_size", null);
            input = ints.stream().mapToLong(Integer::longValue).toArray();
        }
        List<Integer> patch = c.intList("patch_size", List.of(1, 2, 2));
        try {
            return new STDiT3Config(input, c.intValue("input_sq_size", 512), c.intValue("in_channels", 4),
                    patch.stream().mapToInt(Integer::intValue).toArray(), c.intValue("hidden_size", 1152),
                    c.intValue("depth", 28), c.intValue("num_heads", 16), c.doubleValue("mlp_ratio", 4.0),
                    c.boolValue("pred_sigma", true), c.intValue("caption_channels", 4096),
                    c.intValue("model_max_length", 300), c.boolValue("qk_norm", true),
                    c.doubleValue("class_dropout_prob", 0.1));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }
}
