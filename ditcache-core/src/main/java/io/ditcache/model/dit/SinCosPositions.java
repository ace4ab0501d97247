package io.ditcache.model.dit;

import io.ditcache.internal.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' 2-D sin-cos position table, computed in double and stored as float32. For token
 * {@code t = i*w + j} (row i, column j) the first half of the channels encodes the column coordinate and the
 * second half the row coordinate (diffusers' meshgrid with {@code indexing="xy"}); each half is
 * {@code [sin(pos*omega), cos(pos*omega)]} with {@code omega_k = 10000^(-k/(D/4))}.
 */
final class SinCosPositions {
    private SinCosPositions() {
    }

    static Tensor table(int dim, int h, int w, int baseSize) {
        int quarter = dim / 4;
        double[] omega = new double[quarter];
        for (int k = 0; k < quarter; k++) {
            omega[k] = 1.0 / Math.pow(10000.0, (double) k / quarter);
        }
        float[] out = new float[h * w * dim];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                // diffusers: grid = arange(n) / (n / base_size) / interpolation_scale (float32, exact here)
                double col = j / ((float) w / baseSize);
                double row = i / ((float) h / baseSize);
                int base = (i * w + j) * dim;
                fill(out, base, col, omega);
                fill(out, base + dim / 2, row, omega);
            }
        }
        return Tensors.fromFloats(out, 1, (long) h * w, dim);
    }

    private static void fill(float[] out, int at, double pos, double[] omega) {
        int q = omega.length;
        for (int k = 0; k < q; k++) {
            double a = pos * omega[k];
            out[at + k] = (float) Math.sin(a);
            out[at + q + k] = (float) Math.cos(a);
        }
    }
}
