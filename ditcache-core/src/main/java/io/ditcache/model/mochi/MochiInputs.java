package io.ditcache.model.mochi;

import io.ditcache.io.DType;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.TensorInfo;
import java.util.Arrays;

/**
 * Checks a safetensors file of forward inputs ({@code hidden_states}, {@code encoder_hidden_states},
 * {@code timestep}, {@code encoder_attention_mask}, as diffusers names them) against a Mochi model before any of
 * them is loaded: presence, dtypes, shapes against the configuration, batch agreement, one forward against memory,
 * the timesteps' range.
 */
public final class MochiInputs {
    private MochiInputs() {
    }

    /**
     * @throws IllegalArgumentException naming the file, the tensor, its dtype, shape or value and what was expected
     */
    public static void check(SafetensorsFile inputs, MochiConfig config) {
        check(inputs, config, MemoryBudget.ofThisMachine());
    }

    static void check(SafetensorsFile inputs, MochiConfig config, MemoryBudget budget) {
        String file = inputs.source() + ": ";
        for (String name : MochiModel.INPUT_NAMES) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected "
                        + MochiModel.INPUT_NAMES);
            }
        }
        long[] s = floats(inputs, file, "hidden_states");
        long p = config.patchSize();
        if (s.length != 5 || s[0] < 1 || s[1] != config.inChannels() || s[2] < 1 || s[3] < p || s[4] < p
                || s[3] % p != 0 || s[4] % p != 0) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ", expected [N, " + config.inChannels() + " (in_channels), F, H, W] with N, F >= 1 and H and W"
                    + " positive multiples of patch_size " + p);
        }
        long n = s[0];
        long[] e = floats(inputs, file, "encoder_hidden_states");
        if (e.length != 3 || e[0] != n || e[1] < 1 || e[2] != config.textEmbedDim()) {
            throw new IllegalArgumentException(file + "tensor 'encoder_hidden_states' has shape "
                    + Arrays.toString(e) + ", expected [" + n + ", tokens, " + config.textEmbedDim()
                    + "] (text_embed_dim) with tokens >= 1");
        }
        long tokens = s[2] * (s[3] / p) * (s[4] / p);
        long activations = MemoryBudget.times(MemoryBudget.times(config.activationElements(tokens, e[1]), n),
                Float.BYTES);
        String shortfall = budget.shortfall(0, activations);
        if (shortfall != null) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + " (" + tokens + " video tokens) with " + e[1] + " text tokens: one forward " + shortfall);
        }
        TensorInfo m = inputs.info("encoder_attention_mask");
        if (m.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(file + "tensor 'encoder_attention_mask' has dtype " + m.dtype()
                    + ", expected BOOL or an integer dtype (1 = attend)");
        }
        if (!Arrays.equals(m.dims(), new long[] {n, e[1]})) {
            throw new IllegalArgumentException(file + "tensor 'encoder_attention_mask' has shape "
                    + Arrays.toString(m.dims()) + ", expected [" + n + ", " + e[1]
                    + "] (rows and tokens of encoder_hidden_states)");
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
            if (!(times[i] >= 0 && times[i] <= MochiModel.TRAIN_STEPS)) {
                throw new IllegalArgumentException(file + "tensor 'timestep' holds " + times[i] + " at index " + i
                        + ", expected a timestep from 0 to 1000 (Mochi's clock: 0 is pure noise)");
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
