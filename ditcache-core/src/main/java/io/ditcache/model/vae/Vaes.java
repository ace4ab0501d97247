package io.ditcache.model.vae;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Loads diffusers' {@code AutoencoderKL} from a {@code vae/} folder ({@code config.json} and
 * {@code diffusion_pytorch_model.safetensors}), and describes one from its config without allocating a weight.
 */
public final class Vaes {
    private static final String DOWN = "DownEncoderBlock2D";
    private static final String UP = "UpDecoderBlock2D";

    private Vaes() {
    }

    /** Whether {@code config} is an {@code AutoencoderKL}'s (its {@code _class_name}). */
    public static boolean isVae(DiffusersConfig config) {
        return VaeConfig.CLASS_NAME.equals(config.className());
    }

    /** Loads the VAE in {@code dir} with its weights in, and computing with, {@code type}. */
    public static AutoencoderKL load(Path dir, ComputeType type) throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            return load(ckpt, type, MemoryBudget.ofThisMachine());
        }
    }

    /**
     * Loads an open checkpoint: the config read ({@link #config}), checked against the weights' header and
     * {@code budget}, every weight checked (missing, unexpected, shape, dtype); then the model built in
     * {@code type} and the weights (float32, float16 or bfloat16 on disk) copied in one at a time.
     *
     * @throws CheckpointException one line naming the file and the key: a config value the weights or memory
     *                             refuse, a missing or unexpected key, a shape that differs
     */
    public static AutoencoderKL load(Checkpoint ckpt, ComputeType type, MemoryBudget budget) throws IOException {
        DiffusersConfig raw = ckpt.config();
        VaeConfig config = config(raw);
        VaeLayoutCheck.check(config, raw.source(), ckpt, type, budget);
        Map<String, long[]> shapes = config.parameterShapes();
        Weights.check(shapes, ckpt, VaeConfig.CLASS_NAME);
        AutoencoderKL model = Weights.build(type.scalarType(), () -> new AutoencoderKL(config, type));
        Weights.load(model, shapes, ckpt, VaeConfig.CLASS_NAME, type.scalarType());
        return model;
    }

    /** The parameter shapes of {@code config}'s VAE, without building it. */
    public static VaeDescription describe(DiffusersConfig config) throws CheckpointException {
        return new VaeDescription(VaeConfig.CLASS_NAME, config(config).parameterShapes());
    }

    /**
     * The VAE configuration of a diffusers {@code AutoencoderKL} config, diffusers' defaults for absent keys, its
     * sizes checked; not yet against weights or memory.
     *
     * @throws CheckpointException naming the config file, the key, its value and what was expected
     */
    public static VaeConfig config(DiffusersConfig c) throws CheckpointException {
        if (!isVae(c)) {
            throw new CheckpointException(c.source() + ": _class_name is \"" + c.className() + "\", expected \""
                    + VaeConfig.CLASS_NAME + "\"");
        }
        List<Integer> widths = c.intList("block_out_channels", List.of(64));
        blockTypes(c, "down_block_types", DOWN, widths.size());
        blockTypes(c, "up_block_types", UP, widths.size());
        String act = c.stringValue("act_fn", "silu");
        if (!act.equals("silu")) {
            throw new CheckpointException(c.source() + ": key 'act_fn' is \"" + act + "\", expected \"silu\" (the "
                    + "only activation diffusers' AutoencoderKL checkpoints use)");
        }
        try {
            return new VaeConfig(c.intValue("in_channels", 3), c.intValue("out_channels", 3),
                    c.intValue("latent_channels", 4), widths, c.intValue("layers_per_block", 1),
                    c.intValue("norm_num_groups", 32), c.doubleValue("scaling_factor", 0.18215),
                    c.doubleValue("shift_factor", 0.0), c.boolValue("use_quant_conv", true),
                    c.boolValue("use_post_quant_conv", true), c.boolValue("mid_block_add_attention", true),
                    c.doubleList("latents_mean", List.of()), c.doubleList("latents_std", List.of()));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }

    private static void blockTypes(DiffusersConfig c, String key, String want, int blocks)
            throws CheckpointException {
        if (!c.has(key)) {
            if (blocks != 1) {
                throw new CheckpointException(c.source() + ": key '" + key + "' is missing, expected " + blocks
                        + " entries \"" + want + "\", one per width of block_out_channels");
            }
            return;
        }
        Object raw = c.raw().get(key);
        if (!(raw instanceof List<?> list) || !list.stream().allMatch(want::equals) || list.size() != blocks) {
            throw new CheckpointException(c.source() + ": key '" + key + "' is " + raw + ", expected " + blocks
                    + " entries \"" + want + "\", one per width of block_out_channels");
        }
    }
}
