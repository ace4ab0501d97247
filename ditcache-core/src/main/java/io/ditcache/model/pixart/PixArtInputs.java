package io.ditcache.model.pixart;

import io.ditcache.internal.Tensors;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.DType;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.dit.DiTInputs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Checks a safetensors file of forward inputs, under diffusers' argument names, against a PixArt before any of
 * them is loaded: dtypes, shapes against the configuration, batch agreement, what one forward would need against
 * memory, then the values of the small tensors (timesteps within the training range).
 */
public final class PixArtInputs {
    /** The inputs a PixArt forward requires, in diffusers' names. */
    public static final List<String> NAMES = List.of("hidden_states", "encoder_hidden_states", "timestep");
    /**
     * The inputs it takes when present: the caption mask, and the keys of diffusers' {@code added_cond_kwargs}
     * (used with additional conditions only).
     */
    public static final List<String> OPTIONAL = List.of("encoder_attention_mask", "resolution", "aspect_ratio");

    private PixArtInputs() {
    }

    /**
     * Checks {@code inputs} for the model in {@code modelDir}, whose {@code scheduler/scheduler_config.json} (if
     * any) gives the timestep range; a null {@code modelDir} allows diffusers' default 1000.
     *
     * @throws IllegalArgumentException naming the file, the tensor, the dtype, shape or value and what was expected
     * @throws IOException              if the scheduler config cannot be read
     */
    public static void check(SafetensorsFile inputs, PixArtConfig config, Path modelDir) throws IOException {
        int train = DiTInputs.trainTimesteps(modelDir == null ? null : modelDir.resolve(Checkpoint.SCHEDULER_CONFIG));
        check(inputs, config, train, MemoryBudget.ofThisMachine());
    }

    static void check(SafetensorsFile inputs, PixArtConfig config, int trainTimesteps, MemoryBudget budget) {
        String file = inputs.source() + ": ";
        for (String name : NAMES) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected " + NAMES
                        + " (and optionally " + OPTIONAL + ")");
            }
        }
        TensorInfo x = inputs.info("hidden_states");
        floating(file, x);
        long[] s = x.dims();
        long p = config.patchSize();
        if (s.length != 4 || s[0] < 1 || s[1] != config.inChannels() || s[2] < p || s[3] < p || s[2] % p != 0
                || s[3] % p != 0) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ", expected [N, " + config.inChannels() + " (in_channels), H, W] with N >= 1 and H and W "
                    + "positive multiples of patch_size " + p + " (sample_size " + config.sampleSize() + ")");
        }
        long n = s[0];
        TensorInfo e = inputs.info("encoder_hidden_states");
        floating(file, e);
        long[] es = e.dims();
        if (es.length != 3 || es[0] != n || es[1] < 1 || es[2] != config.captionChannels()) {
            throw new IllegalArgumentException(file + "tensor 'encoder_hidden_states' has shape "
                    + Arrays.toString(es) + ", expected [" + n + ", tokens, " + config.captionChannels()
                    + "] (one caption per row of hidden_states, caption_channels " + config.captionChannels() + ")");
        }
        checkMemory(file, s, es[1], config, budget);
        TensorInfo t = inputs.info("timestep");
        if (t.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(file + "tensor 'timestep' has dtype BOOL, expected a number dtype");
        }
        if (t.shape().size() > 1 || (t.numel() != 1 && t.numel() != n)) {
            throw new IllegalArgumentException(file + "tensor 'timestep' has shape " + t.shape() + ", expected [] or "
                    + "[1] (one timestep for the batch) or [" + n + "] (one per row of hidden_states)");
        }
        if (inputs.contains("encoder_attention_mask")) {
            TensorInfo m = inputs.info("encoder_attention_mask");
            if (m.shape().size() != 2 || m.dims()[0] != n || m.dims()[1] != es[1]) {
                throw new IllegalArgumentException(file + "tensor 'encoder_attention_mask' has shape " + m.shape()
                        + ", expected [" + n + ", " + es[1] + "] (rows and tokens of encoder_hidden_states; 1 = "
                        + "attend, 0 = drop)");
            }
        }
        if (config.useAdditionalConditions()) {
            condition(file, inputs, "resolution", n, 2, "pixel height and width");
            condition(file, inputs, "aspect_ratio", n, 1, "height / width");
        }
        // at most N values, and N latents are in the file
        double[] times = t.dtype().isFloatingPoint() ? inputs.doubles("timestep")
                : Arrays.stream(inputs.longs("timestep")).asDoubleStream().toArray();
        for (int i = 0; i < times.length; i++) {
            if (!(times[i] >= 0 && times[i] <= trainTimesteps)) {
                throw new IllegalArgumentException(file + "tensor 'timestep' holds " + times[i] + " at index " + i
                        + ", expected a timestep from 0 to " + trainTimesteps + " (num_train_timesteps)");
            }
        }
    }

    /**
     * Checks the tensors of one forward against {@code config}: dtypes, shapes and batch agreement.
     *
     * @throws IllegalArgumentException naming the input (diffusers' argument name), its dtype or shape and what
     *                                  was expected
     */
    static void check(PixArtConfig config, Tensor latents, Tensor timesteps, Tensor text, Tensor mask) {
        if (!Tensors.isFloat(latents)) {
            throw new IllegalArgumentException("hidden_states has dtype " + latents.scalar_type().intern()
                    + ", expected a float dtype (Float, Half, BFloat16 or Double)");
        }
        long[] s = Tensors.shape(latents);
        long p = config.patchSize();
        if (s.length != 4 || s[0] < 1 || s[1] != config.inChannels() || s[2] < p || s[3] < p || s[2] % p != 0
                || s[3] % p != 0) {
            throw new IllegalArgumentException("hidden_states has shape " + Arrays.toString(s) + ", expected [N, "
                    + config.inChannels() + ", H, W] with H and W positive multiples of patch_size " + p);
        }
        long tokens = (s[2] / p) * (s[3] / p);
        if (tokens > PixArtConfig.MAX_ARRAY / config.innerDim()) {
            throw new IllegalArgumentException("hidden_states has shape " + Arrays.toString(s) + ": " + tokens
                    + " tokens x inner dim " + config.innerDim() + " is a position table larger than "
                    + PixArtConfig.MAX_ARRAY + " floats");
        }
        long n = s[0];
        if (timesteps.numel() != n && timesteps.numel() != 1) {
            throw new IllegalArgumentException("timestep has " + timesteps.numel() + " elements, expected " + n
                    + " or 1");
        }
        long[] e = Tensors.shape(text);
        if (!Tensors.isFloat(text)) {
            throw new IllegalArgumentException("encoder_hidden_states has dtype " + text.scalar_type().intern()
                    + ", expected a float dtype");
        }
        if (e.length != 3 || e[0] != n || e[1] < 1 || e[2] != config.captionChannels()) {
            throw new IllegalArgumentException("encoder_hidden_states has shape " + Arrays.toString(e)
                    + ", expected [" + n + ", tokens, " + config.captionChannels() + "] (rows of hidden_states, "
                    + "caption_channels " + config.captionChannels() + ")");
        }
        if (mask != null) {
            long[] m = Tensors.shape(mask);
            if (m.length != 2 || m[0] != n || m[1] != e[1]) {
                throw new IllegalArgumentException("encoder_attention_mask has shape " + Arrays.toString(m)
                        + ", expected [" + n + ", " + e[1] + "] (rows and tokens of encoder_hidden_states)");
            }
        }
    }

    private static void condition(String file, SafetensorsFile inputs, String name, long n, long width,
            String what) {
        if (!inputs.contains(name)) {
            return;
        }
        TensorInfo r = inputs.info(name);
        if (r.dtype() == DType.BOOL || r.shape().size() != 2 || r.dims()[0] != n || r.dims()[1] != width) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has dtype " + r.dtype() + " and shape "
                    + r.shape() + ", expected [" + n + ", " + width + "] (" + what + " per row) of a number dtype");
        }
    }

    private static void floating(String file, TensorInfo t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(file + "tensor '" + t.name() + "' has dtype " + t.dtype()
                    + ", expected a float dtype (F32, F16, BF16 or F64)");
        }
    }

    /** Refuses inputs whose forward cannot fit: the position table as one Java array, activations in memory. */
    private static void checkMemory(String file, long[] s, long textTokens, PixArtConfig config,
            MemoryBudget budget) {
        long p = config.patchSize();
        long tokens = (s[2] / p) * (s[3] / p);
        long table = MemoryBudget.times(tokens, config.innerDim());
        if (table < 0 || table > PixArtConfig.MAX_ARRAY) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ": " + tokens + " tokens of inner dim " + config.innerDim() + " need a position table of "
                    + (table < 0 ? "more than " + Long.MAX_VALUE : table) + " floats, more than "
                    + PixArtConfig.MAX_ARRAY);
        }
        long activations = MemoryBudget.times(MemoryBudget.times(config.activationElements(s[2], s[3],
                textTokens), s[0]), Float.BYTES);
        String shortfall = budget.shortfall(0, MemoryBudget.plus(MemoryBudget.times(table, Float.BYTES),
                activations));
        if (shortfall != null) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ": one forward of " + s[0] + " x " + s[2] + " x " + s[3] + " latents " + shortfall);
        }
    }
}
