package io.ditcache.model.opensora;

import io.ditcache.internal.Tensors;

/**
 * Open-Sora's {@code PositionEmbedding2D}: the 2-D sin-cos table added to every frame's patches. For a grid of
 * {@code h x w} patches, patch {@code (i, j)} (row-major) gets
 * {@code [sin(x f), cos(x f), sin(y f), cos(y f)]} with {@code x = j / scale * base_size / w} (the column, first
 * as Open-Sora's meshgrid puts it), {@code y = i / scale * base_size / h} and the {@code dim / 4} frequencies
 * {@code f_k = 10000^(-2k / (dim / 2))}. STDiT3 passes {@code base_size = round(sqrt(h * w))} and
 * {@code scale = sqrt(height * width) / input_sq_size} of the video's pixel size.
 */
final class SpatialPositions {
    private SpatialPositions() {
    }

    /** The table {@code [h * w, dim]} (float32), computed in double. */
    static org.bytedeco.pytorch.Tensor table(int dim, long h, long w, double scale, long baseSize) {
        double[] t = values(dim, h, w, scale, baseSize);
        float[] f = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            f[i] = (float) t[i];
        }
        return Tensors.fromFloats(f, h * w, dim);
    }

    /** The table's values, row-major {@code [h * w, dim]}. */
    static double[] values(int dim, long h, long w, double scale, long baseSize) {
        int quarter = dim / 4;
        int half = dim / 2;
        double[] out = new double[Math.toIntExact(h * w * dim)];
        for (long i = 0; i < h; i++) {
            double y = i / scale * baseSize / h;
            for (long j = 0; j < w; j++) {
                double x = j / scale * baseSize / w;
                int base = (int) ((i * w + j) * dim);
                for (int k = 0; k < quarter; k++) {
                    // float32 frequencies, as the registered inv_freq buffer holds them
                    double f = (float) (1.0 / Math.pow(10000, (2.0 * k) / half));
                    out[base + k] = Math.sin(x * f);
                    out[base + quarter + k] = Math.cos(x * f);
                    out[base + half + k] = Math.sin(y * f);
                    out[base + half + quarter + k] = Math.cos(y * f);
                }
            }
        }
        return out;
    }
}
