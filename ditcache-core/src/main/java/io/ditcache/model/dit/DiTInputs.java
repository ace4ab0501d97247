package io.ditcache.model.dit;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.DType;
import io.ditcache.io.JsonFiles;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Checks a safetensors file of forward inputs ({@code hidden_states}, {@code timestep}, {@code class_labels}, as
 * diffusers names them) against a DiT before any of them is loaded: dtypes, shapes against the configuration,
 * batch agreement, what one forward would need against memory, and then the values of the small tensors
 * (timesteps within the training range, labels within the classes).
 */
public final class DiTInputs {
    /** The inputs a DiT forward takes, in diffusers' names. */
    public static final List<String> NAMES = List.of("hidden_states", "timestep", "class_labels");
    /** diffusers' default {@code num_train_timesteps} when a model has no scheduler config. */
    public static final int DEFAULT_TRAIN_TIMESTEPS = 1000;
    private static final String INTEGER_DTYPES = "I64, I32, I16, I8 or U8";

    private DiTInputs() {
    }

    /**
     * Checks {@code inputs} for the model in {@code modelDir}, whose {@code scheduler/scheduler_config.json} (if
     * any) gives the timestep range; a null {@code modelDir} (the embedded default) uses
     * {@value #DEFAULT_TRAIN_TIMESTEPS}.
     *
     * @throws IllegalArgumentException naming the file, the tensor, the dtype, shape or value and what was expected
     * @throws IOException              if the scheduler config cannot be read
     */
    public static void check(SafetensorsFile inputs, DiTConfig config, Path modelDir) throws IOException {
        check(inputs, config, trainTimesteps(modelDir == null ? null : modelDir.resolve(Checkpoint.SCHEDULER_CONFIG)));
    }

    /**
     * Checks {@code inputs} with timesteps allowed in {@code [0, trainTimesteps]}.
     *
     * @throws IllegalArgumentException naming the file, the tensor, the dtype, shape or value and what was expected
     */
    public static void check(SafetensorsFile inputs, DiTConfig config, int trainTimesteps) {
        check(inputs, config, trainTimesteps, MemoryBudget.ofThisMachine());
    }

    static void check(SafetensorsFile inputs, DiTConfig config, int trainTimesteps, MemoryBudget budget) {
        String file = inputs.source() + ": ";
        for (String name : NAMES) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected " + NAMES);
            }
        }
        TensorInfo x = inputs.info("hidden_states");
        if (!x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has dtype " + x.dtype()
                    + ", expected a float dtype (F32, F16, BF16 or F64)");
        }
        long[] s = x.dims();
        long p = config.patchSize();
        if (s.length != 4 || s[0] < 1 || s[1] != config.inChannels() || s[2] < p || s[3] < p || s[2] % p != 0
                || s[3] % p != 0) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ", expected [N, " + config.inChannels() + " (in_channels), H, W] with N >= 1 and H and W "
                    + "positive multiples of patch_size " + p + " (sample_size " + config.sampleSize() + ")");
        }
        long n = s[0];
        checkMemory(file, s, config, budget);
        TensorInfo t = inputs.info("timestep");
        if (t.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(file + "tensor 'timestep' has dtype BOOL, expected a number dtype");
        }
        if (t.shape().size() > 1 || (t.numel() != 1 && t.numel() != n)) {
            throw new IllegalArgumentException(file + "tensor 'timestep' has shape " + t.shape() + ", expected [] or "
                    + "[1] (one timestep for the batch) or [" + n + "] (one per row of hidden_states)");
        }
        TensorInfo y = inputs.info("class_labels");
        if (y.dtype().isFloatingPoint() || y.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(file + "tensor 'class_labels' has dtype " + y.dtype()
                    + ", expected an integer dtype (" + INTEGER_DTYPES + ")");
        }
        if (y.shape().size() > 1 || y.numel() != n) {
            throw new IllegalArgumentException(file + "tensor 'class_labels' has shape " + y.shape() + ", expected ["
                    + n + "] (one label per row of hidden_states)");
        }
        // both hold at most N values, and N rows of hidden_states are in the file: reading them is bounded
        if (t.dtype().isFloatingPoint()) {
            double[] times = inputs.doubles("timestep");
            for (int i = 0; i < times.length; i++) {
                if (!(times[i] >= 0 && times[i] <= trainTimesteps)) {
                    throw badTimestep(file, Double.toString(times[i]), i, trainTimesteps);
                }
            }
        } else {
            long[] times = inputs.longs("timestep");
            for (int i = 0; i < times.length; i++) {
                if (times[i] < 0 || times[i] > trainTimesteps) {
                    throw badTimestep(file, Long.toString(times[i]), i, trainTimesteps);
                }
            }
        }
        long[] labels = inputs.longs("class_labels");
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] > config.numClasses()) {
                throw new IllegalArgumentException(file + "tensor 'class_labels' holds " + labels[i] + " at index " + i
                        + ", expected a class from 0 to " + config.numClasses() + " (num_embeds_ada_norm "
                        + config.numClasses() + " classes; " + config.numClasses() + " is the null class)");
            }
        }
    }

    /**
     * {@code num_train_timesteps} of a diffusers scheduler config, or {@value #DEFAULT_TRAIN_TIMESTEPS} when
     * {@code schedulerConfig} is null, absent, or does not set it.
     *
     * @throws IllegalArgumentException naming the file when the value is not an integer >= 1
     */
    public static int trainTimesteps(Path schedulerConfig) throws IOException {
        if (schedulerConfig == null || !Files.isRegularFile(schedulerConfig)) {
            return DEFAULT_TRAIN_TIMESTEPS;
        }
        Map<String, Object> c = JsonFiles.readObject(schedulerConfig);
        Object v = c.get("num_train_timesteps");
        if (v == null) {
            return DEFAULT_TRAIN_TIMESTEPS;
        }
        if (v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue()) && num.doubleValue() >= 1
                && num.doubleValue() <= Integer.MAX_VALUE) {
            return num.intValue();
        }
        throw new IllegalArgumentException(schedulerConfig + ": key \"num_train_timesteps\" is " + v
                + ", expected an integer from 1 to " + Integer.MAX_VALUE);
    }

    /** Refuses inputs whose forward cannot fit: the position table as one Java array, activations in memory. */
    private static void checkMemory(String file, long[] s, DiTConfig config, MemoryBudget budget) {
        long p = config.patchSize();
        long tokens = (s[2] / p) * (s[3] / p); // H x W fits a long: the file holds N x C x H x W elements
        long table = MemoryBudget.times(tokens, config.innerDim());
        if (table < 0 || table > DiTConfig.MAX_ARRAY) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ": " + tokens + " tokens of inner dim " + config.innerDim() + " need a position table of "
                    + (table < 0 ? "more than " + Long.MAX_VALUE : table) + " floats, more than a Java array holds ("
                    + DiTConfig.MAX_ARRAY + ")");
        }
        long tableBytes = MemoryBudget.times(table, Float.BYTES);
        long activations = MemoryBudget.times(MemoryBudget.times(config.activationElements(s[2], s[3]), s[0]),
                Float.BYTES);
        String shortfall = budget.shortfall(tableBytes, MemoryBudget.plus(tableBytes, activations));
        if (shortfall != null) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ": one forward of " + s[0] + " x " + s[2] + " x " + s[3] + " latents " + shortfall);
        }
    }

    private static IllegalArgumentException badTimestep(String file, String value, int index, int trainTimesteps) {
        return new IllegalArgumentException(file + "tensor 'timestep' holds " + value + " at index " + index
                + ", expected a timestep from 0 to " + trainTimesteps + " (num_train_timesteps)");
    }
}
