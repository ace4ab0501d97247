package io.ditcache.model.opensora;

import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;

/** Checks of STDiT3's forward inputs, each failure one line naming the input, its shape and what was expected. */
final class STDiT3Inputs {
    private STDiT3Inputs() {
    }

    /** The inputs of a {@code run} file: {@code x}, {@code timestep} and {@code y} present. */
    static void check(SafetensorsFile inputs, Path modelDir) throws CheckpointException {
        for (String name : STDiT3Model.INPUTS) {
            if (!inputs.contains(name)) {
                throw new CheckpointException(inputs.source() + ": no input \"" + name + "\" for "
                        + STDiT3Config.CLASS_NAME + " (model " + modelDir + "); expected " + STDiT3Model.INPUTS
                        + ", optionally " + STDiT3Model.OPTIONAL);
            }
        }
    }

    /**
     * @throws IllegalArgumentException for {@code x} not {@code [B, in_channels, F, H, W]} with sizes multiples of
     *                                  the patch, a timestep count other than 1 or B, {@code y} not
     *                                  {@code [B, (1,) L, caption_channels]}, or a mask not {@code [B, L]}
     */
    static void check(STDiT3Config c, Tensor x, Tensor timestep, Tensor y, Tensor mask) {
        long[] xs = Tensors.shape(x);
        int[] p = c.patchSize();
        if (xs.length != 5 || xs[0] < 1 || xs[1] != c.inChannels() || xs[2] < 1 || xs[2] % p[0] != 0
                || xs[3] < 1 || xs[3] % p[1] != 0 || xs[4] < 1 || xs[4] % p[2] != 0) {
            throw new IllegalArgumentException("x has shape " + Arrays.toString(xs) + ", expected [B, "
                    + c.inChannels() + ", F, H, W] with F, H, W positive multiples of patch_size "
                    + Arrays.toString(p));
        }
        long b = xs[0];
        if (timestep.numel() != 1 && timestep.numel() != b) {
            throw new IllegalArgumentException("timestep has shape " + Arrays.toString(Tensors.shape(timestep))
                    + ", expected [" + b + "] or [1]");
        }
        long[] ys = Tensors.shape(y);
        boolean ok = ys.length == 3 || (ys.length == 4 && ys[1] == 1);
        if (!ok || ys[0] != b || ys[ys.length - 1] != c.captionChannels() || ys[ys.length - 2] < 1) {
            throw new IllegalArgumentException("y has shape " + Arrays.toString(ys) + ", expected [" + b + ", L, "
                    + c.captionChannels() + "] or [" + b + ", 1, L, " + c.captionChannels() + "]");
        }
        if (mask != null) {
            long[] ms = Tensors.shape(mask);
            if (ms.length != 2 || ms[0] != b || ms[1] != ys[ys.length - 2]) {
                throw new IllegalArgumentException("mask has shape " + Arrays.toString(ms) + ", expected [" + b
                        + ", " + ys[ys.length - 2] + "] (rows and tokens of y)");
            }
        }
    }
}
