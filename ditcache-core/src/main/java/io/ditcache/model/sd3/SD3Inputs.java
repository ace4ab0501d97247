package io.ditcache.model.sd3;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.DType;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.dit.DiTInputs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Checks a safetensors file of forward inputs ({@code hidden_states}, {@code encoder_hidden_states},
 * {@code pooled_projections}, {@code timestep}, as diffusers names them) against an SD3 model before any of them is
 * loaded: dtypes, shapes against the configuration, batch agreement, one forward against memory, then the
 * timesteps' range.
 */
public final class SD3Inputs {
    private SD3Inputs() {
    }

    /**
     * Checks {@code inputs} for the model in {@code modelDir}, whose scheduler config (if any) bounds the
     * timesteps ({@code num_train_timesteps}, 1000 without one).
     *
     * @throws IllegalArgumentException naming the file, the tensor, its dtype, shape or value and what was expected
     */
    public static void check(SafetensorsFile inputs, SD3Config config, Path modelDir) throws IOException {
        check(inputs, config, DiTInputs.trainTimesteps(modelDir == null ? null
                : modelDir.resolve(Checkpoint.SCHEDULER_CONFIG)), MemoryBudget.ofThisMachine());
    }

    static void check(SafetensorsFile inputs, SD3Config config, int trainTimesteps, MemoryBudget budget) {
        String file = inputs.source() + ": ";
        for (String name : SD3Model.INPUT_NAMES) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected "
                        + SD3Model.INPUT_NAMES);
            }
        }
        long[] s = floats(inputs, file, "hidden_states");
        long p = config.patchSize();
        long max = config.posEmbedMaxSize();
        if (s.length != 4 || s[0] < 1 || s[1] != config.inChannels() || s[2] < p || s[3] < p || s[2] % p != 0
                || s[3] % p != 0 || s[2] / p > max || s[3] / p > max) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ", expected [N, " + config.inChannels() + " (in_channels), H, W] with N >= 1 and H and W "
                    + "positive multiples of patch_size " + p + " up to " + max * p + " (pos_embed_max_size " + max
                    + ")");
        }
        long n = s[0];
        long[] e = floats(inputs, file, "encoder_hidden_states");
        if (e.length != 3 || e[0] != n || e[1] < 1 || e[2] != config.jointAttentionDim()) {
            throw new IllegalArgumentException(file + "tensor 'encoder_hidden_states' has shape "
                    + Arrays.toString(e) + ", expected [" + n + ", tokens, " + config.jointAttentionDim()
                    + "] (joint_attention_dim) with tokens >= 1");
        }
        long[] q = floats(inputs, file, "pooled_projections");
        if (q.length != 2 || q[0] != n || q[1] != config.pooledProjectionDim()) {
            throw new IllegalArgumentException(file + "tensor 'pooled_projections' has shape " + Arrays.toString(q)
                    + ", expected [" + n + ", " + config.pooledProjectionDim() + "] (pooled_projection_dim)");
        }
        long activations = MemoryBudget.times(MemoryBudget.times(config.activationElements(s[2], s[3], e[1]), n),
                Float.BYTES);
        String shortfall = budget.shortfall(0, activations);
        if (shortfall != null) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + " with " + e[1] + " text tokens: one forward " + shortfall);
        }
        TensorInfo t = inputs.info("timestep");
        if (t.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(file + "tensor 'timestep' has dtype BOOL, expected a number dtype");
        }
        if (t.shape().size() > 1 || (t.numel() != 1 && t.numel() != n)) {
            throw new IllegalArgumentException(file + "tensor 'timestep' has shape " + t.shape() + ", expected [] or "
                    + "[1] (one timestep for the batch) or [" + n + "] (one per row of hidden_states)");
        }
        double[] times = t.dtype().isFloatingPoint() ? inputs.doubles("timestep")
                : Arrays.stream(inputs.longs("timestep")).asDoubleStream().toArray();
        for (int i = 0; i < times.length; i++) {
            if (!(times[i] >= 0 && times[i] <= trainTimesteps)) {
                throw new IllegalArgumentException(file + "tensor 'timestep' holds " + times[i] + " at index " + i
                        + ", expected a timestep from 0 to " + trainTimesteps + " (num_train_timesteps; the "
                        + "scheduler's sigma x " + trainTimesteps + ")");
            }
        }
    }

    private static long[] floats(SafetensorsFile inputs, String file, String name) {
        TensorInfo info = inputs.info(name);
        if (!info.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(file + "tensor '" + name + "' has dtype " + info.dtype()
                    + ", expected a float dtype (F32, F16, BF16 or F64)");
        }
        return info.dims();
    }
}
