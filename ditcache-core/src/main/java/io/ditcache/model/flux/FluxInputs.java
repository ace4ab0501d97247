package io.ditcache.model.flux;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.DType;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.dit.DiTInputs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Checks a safetensors file of diffusers' {@code FluxTransformer2DModel.forward} arguments before any is loaded:
 * {@code hidden_states [N, S, in_channels]}, {@code encoder_hidden_states [N, T, joint_attention_dim]},
 * {@code pooled_projections [N, pooled_projection_dim]}, {@code timestep} ({@code [N]}, {@code [1]} or {@code []},
 * on the pipeline's scale: the scheduler's timestep / 1000), {@code img_ids [S, axes]}, {@code txt_ids [T, axes]}
 * and, with {@code guidance_embeds}, {@code guidance} ({@code [N]}, {@code [1]} or {@code []}): dtypes, shapes
 * against the configuration and each other, one forward's memory, then the values of the small tensors.
 */
public final class FluxInputs {
    private static final List<String> NAMES = List.of("hidden_states", "encoder_hidden_states",
            "pooled_projections", "timestep", "img_ids", "txt_ids");

    private FluxInputs() {
    }

    /** The forward arguments {@code config}'s model takes, in diffusers' names. */
    public static List<String> names(FluxConfig config) {
        if (!config.guidanceEmbeds()) {
            return NAMES;
        }
        List<String> out = new ArrayList<>(NAMES);
        out.add("guidance");
        return List.copyOf(out);
    }

    /**
     * Checks {@code inputs}; timesteps may run to {@code num_train_timesteps / 1000} of {@code modelDir}'s scheduler
     * config (1 without one).
     *
     * @throws IllegalArgumentException naming the file, the tensor, the dtype, shape or value and what was expected
     */
    public static void check(SafetensorsFile inputs, FluxConfig config, Path modelDir) throws IOException {
        int train = DiTInputs.trainTimesteps(modelDir == null ? null : modelDir.resolve(Checkpoint.SCHEDULER_CONFIG));
        check(inputs, config, train / 1000.0, MemoryBudget.ofThisMachine());
    }

    static void check(SafetensorsFile inputs, FluxConfig config, double maxTimestep, MemoryBudget budget) {
        String file = inputs.source() + ": ";
        List<String> names = names(config);
        for (String name : names) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected " + names);
            }
        }
        if (!config.guidanceEmbeds() && inputs.contains("guidance")) {
            throw new IllegalArgumentException(file + "tensor 'guidance' given, but " + FluxConfig.CLASS_NAME
                    + " without guidance_embeds (FLUX.1-schnell) takes no guidance scale");
        }
        int axes = config.axesDimsRope().size();
        long[] x = floats(inputs, file, "hidden_states", 3);
        long n = x[0];
        long s = x[1];
        expect(x[0] >= 1 && x[1] >= 1 && x[2] == config.inChannels(), file, "hidden_states", x,
                "[N, S, " + config.inChannels() + " (in_channels)] with N, S >= 1");
        long[] c = floats(inputs, file, "encoder_hidden_states", 3);
        expect(c[0] == n && c[1] >= 1 && c[2] == config.jointAttentionDim(), file, "encoder_hidden_states", c,
                "[" + n + ", T, " + config.jointAttentionDim() + " (joint_attention_dim)] with T >= 1");
        long t = c[1];
        long[] p = floats(inputs, file, "pooled_projections", 2);
        expect(p[0] == n && p[1] == config.pooledProjectionDim(), file, "pooled_projections", p,
                "[" + n + ", " + config.pooledProjectionDim() + " (pooled_projection_dim)]");
        long[] img = floats(inputs, file, "img_ids", 2);
        expect(img[0] == s && img[1] == axes, file, "img_ids", img,
                "[" + s + " (tokens of hidden_states), " + axes + " (axes of axes_dims_rope)]");
        long[] txt = floats(inputs, file, "txt_ids", 2);
        expect(txt[0] == t && txt[1] == axes, file, "txt_ids", txt,
                "[" + t + " (tokens of encoder_hidden_states), " + axes + " (axes of axes_dims_rope)]");
        perRow(inputs, file, "timestep", n);
        if (config.guidanceEmbeds()) {
            perRow(inputs, file, "guidance", n);
        }
        String memory = shortfall(s, t, n, config, budget);
        if (memory != null) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(x)
                    + " and 'encoder_hidden_states' " + Arrays.toString(c) + ": one forward " + memory);
        }
        // the small tensors: at most N values each, or one id per token, all held in the file already
        values(inputs, file, "timestep", 0, maxTimestep, "a timestep from 0 to " + maxTimestep
                + " (the scheduler's timestep / 1000)");
        if (config.guidanceEmbeds()) {
            values(inputs, file, "guidance", 0, Double.MAX_VALUE, "a finite guidance scale >= 0");
        }
        values(inputs, file, "img_ids", -Double.MAX_VALUE, Double.MAX_VALUE, "a finite position");
        values(inputs, file, "txt_ids", -Double.MAX_VALUE, Double.MAX_VALUE, "a finite position");
    }

    /**
     * Refuses a sequence whose forward cannot fit in this machine's memory.
     *
     * @param what names the request in the message (a latent size, a tensor)
     * @throws IllegalArgumentException naming {@code what}, the tokens and the memory
     */
    static void checkTokens(long imageTokens, long textTokens, FluxConfig config, String what) {
        String memory = shortfall(imageTokens, textTokens, 1, config, MemoryBudget.ofThisMachine());
        if (memory != null) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " cannot make " + what + ": "
                    + imageTokens + " image + " + textTokens + " text tokens per sample, one forward " + memory);
        }
    }

    /**
     * What one forward of {@code n} samples holds at once, at least: per token the hidden state, q, k, v, the
     * attention output and the 4-wide MLP (about 12 widths), and the attention weights of every head (S x S, where
     * libtorch's CPU attention materialises them).
     */
    private static String shortfall(long imageTokens, long textTokens, long n, FluxConfig config,
            MemoryBudget budget) {
        long seq = MemoryBudget.plus(imageTokens, textTokens);
        long perSample = MemoryBudget.plus(MemoryBudget.times(MemoryBudget.times(seq, config.innerDim()), 12),
                MemoryBudget.times(MemoryBudget.times(seq, seq), config.numHeads()));
        long bytes = MemoryBudget.times(MemoryBudget.times(perSample, n), Float.BYTES);
        return budget.shortfall(0, bytes);
    }

    private static long[] floats(SafetensorsFile inputs, String file, String name, int rank) {
        TensorInfo info = inputs.info(name);
        if (!info.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has dtype " + info.dtype()
                    + ", expected a float dtype (F32, F16, BF16 or F64)");
        }
        long[] dims = info.dims();
        if (dims.length != rank) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has shape " + Arrays.toString(dims)
                    + ", expected " + rank + " dimensions");
        }
        return dims;
    }

    private static void perRow(SafetensorsFile inputs, String file, String name, long n) {
        TensorInfo info = inputs.info(name);
        if (info.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has dtype BOOL, expected a number dtype");
        }
        if (info.shape().size() > 1 || (info.numel() != 1 && info.numel() != n)) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has shape " + info.shape()
                    + ", expected [] or [1] (one value for the batch) or [" + n + "] (one per row of hidden_states)");
        }
    }

    private static void values(SafetensorsFile inputs, String file, String name, double min, double max,
            String expected) {
        double[] v = inputs.doubles(name);
        for (int i = 0; i < v.length; i++) {
            if (!(v[i] >= min && v[i] <= max) || !Double.isFinite(v[i])) {
                throw new IllegalArgumentException(file + "tensor '" + name + "' holds " + v[i] + " at index " + i
                        + ", expected " + expected);
            }
        }
    }

    private static void expect(boolean ok, String file, String name, long[] shape, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + ", expected " + expected);
        }
    }
}
