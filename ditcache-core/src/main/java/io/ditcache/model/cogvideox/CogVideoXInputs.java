package io.ditcache.model.cogvideox;

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
 * Checks a safetensors file of forward inputs ({@code hidden_states [N, F, C, H, W]},
 * {@code encoder_hidden_states}, {@code timestep}, optionally {@code image_rotary_emb.cos/.sin}) against a
 * CogVideoX model before any of them is loaded: dtypes, shapes against the configuration, batch agreement, one
 * forward against memory, then the timesteps' range.
 */
public final class CogVideoXInputs {
    private CogVideoXInputs() {
    }

    /**
     * Checks {@code inputs} for the model in {@code modelDir}, whose scheduler config (if any) bounds the
     * timesteps ({@code num_train_timesteps}, 1000 without one).
     *
     * @throws IllegalArgumentException naming the file, the tensor, its dtype, shape or value and what was expected
     */
    public static void check(SafetensorsFile inputs, CogVideoXConfig config, Path modelDir) throws IOException {
        check(inputs, config, DiTInputs.trainTimesteps(modelDir == null ? null
                : modelDir.resolve(Checkpoint.SCHEDULER_CONFIG)), MemoryBudget.ofThisMachine());
    }

    static void check(SafetensorsFile inputs, CogVideoXConfig config, int trainTimesteps, MemoryBudget budget) {
        String file = inputs.source() + ": ";
        for (String name : CogVideoXModel.INPUT_NAMES) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected "
                        + CogVideoXModel.INPUT_NAMES + " and optionally " + CogVideoXModel.OPTIONAL_INPUT_NAMES);
            }
        }
        long[] s = floats(inputs, file, "hidden_states");
        long p = config.patchSize();
        long pt = config.framesPerPatch();
        if (s.length != 5 || s[0] < 1 || s[1] < 1 || s[1] % pt != 0 || s[2] != config.inChannels() || s[3] < p
                || s[4] < p || s[3] % p != 0 || s[4] % p != 0) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ", expected [N, F, " + config.inChannels() + " (in_channels), H, W] ([B, F, C, H, W] layout)"
                    + " with F a positive multiple of " + pt + " and H, W positive multiples of patch_size " + p);
        }
        long n = s[0];
        long[] e = floats(inputs, file, "encoder_hidden_states");
        if (e.length != 3 || e[0] != n || e[1] != config.maxTextSeqLength() || e[2] != config.textEmbedDim()) {
            throw new IllegalArgumentException(file + "tensor 'encoder_hidden_states' has shape "
                    + Arrays.toString(e) + ", expected [" + n + ", " + config.maxTextSeqLength()
                    + " (max_text_seq_length), " + config.textEmbedDim() + " (text_embed_dim)]");
        }
        long tokens = (s[1] / pt) * (s[3] / p) * (s[4] / p);
        boolean cos = inputs.contains("image_rotary_emb.cos");
        boolean sin = inputs.contains("image_rotary_emb.sin");
        if (cos != sin) {
            throw new IllegalArgumentException(file + "has tensor 'image_rotary_emb." + (cos ? "cos" : "sin")
                    + "' without 'image_rotary_emb." + (cos ? "sin" : "cos") + "', expected both or neither");
        }
        if (cos) {
            for (String name : CogVideoXModel.OPTIONAL_INPUT_NAMES) {
                long[] r = floats(inputs, file, name);
                if (r.length != 2 || r[0] != tokens || r[1] != config.headDim()) {
                    throw new IllegalArgumentException(file + "tensor '" + name + "' has shape " + Arrays.toString(r)
                            + ", expected [" + tokens + " (video tokens), " + config.headDim()
                            + " (attention_head_dim)]");
                }
            }
        }
        long latent = Arrays.stream(s).skip(1).reduce(1, Math::multiplyExact);
        long activations = MemoryBudget.times(MemoryBudget.times(config.activationElements(latent, tokens, e[1]), n),
                Float.BYTES);
        String shortfall = budget.shortfall(0, activations);
        if (shortfall != null) {
            throw new IllegalArgumentException(file + "tensor 'hidden_states' has shape " + Arrays.toString(s)
                    + ": one forward " + shortfall);
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
            if (!(times[i] >= 0 && times[i] < trainTimesteps)) {
                throw new IllegalArgumentException(file + "tensor 'timestep' holds " + times[i] + " at index " + i
                        + ", expected a timestep from 0 to " + (trainTimesteps - 1) + " (num_train_timesteps)");
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
