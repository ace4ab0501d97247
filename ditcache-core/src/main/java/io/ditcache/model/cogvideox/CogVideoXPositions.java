package io.ditcache.model.cogvideox;

import io.ditcache.internal.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * CogVideoX's position information for the video tokens, ordered (frame or frame patch, row, column):
 * diffusers' 3-D sin-cos table ({@code get_3d_sincos_pos_embed}, added to the patch embeddings when the model has
 * no RoPE) and the 3-D rotary tables the pipeline computes ({@code _prepare_rotary_positional_embeddings} with
 * {@code get_3d_rotary_pos_embed}).
 */
final class CogVideoXPositions {
    private static final double THETA = 10000.0;

    private CogVideoXPositions() {
    }

    /**
     * The sin-cos table of {@code frames x rows x cols} video tokens, {@code [N, D]} float32: channels
     * {@code [t: D/4 | w: 3D/8 | h: 3D/8]}, each {@code [sin | cos]}; spatial positions divided by
     * {@code spatial_interpolation_scale} (in float32), temporal ones by {@code temporal_interpolation_scale},
     * computed in float64 and rounded to float32 as diffusers does.
     */
    static Tensor sinCos(CogVideoXConfig c, int frames, int rows, int cols) {
        int d = c.innerDim();
        int dimT = d / 4;
        int dimS = 3 * d / 4;
        int half = dimS / 2;
        float ss = (float) c.spatialInterpolationScale();
        float ts = (float) c.temporalInterpolationScale();
        float[] table = new float[frames * rows * cols * d];
        double[] omegaT = omega(dimT);
        double[] omegaS = omega(half);
        int i = 0;
        for (int f = 0; f < frames; f++) {
            for (int h = 0; h < rows; h++) {
                for (int w = 0; w < cols; w++) {
                    int base = i * d;
                    fill(table, base, (float) f / ts, omegaT);
                    fill(table, base + dimT, (float) w / ss, omegaS);
                    fill(table, base + dimT + half, (float) h / ss, omegaS);
                    i++;
                }
            }
        }
        return Tensors.fromFloats(table, (long) frames * rows * cols, d);
    }

    /** {@code 1 / 10000^(i / (dim/2))} for {@code i < dim/2}, float64. */
    private static double[] omega(int dim) {
        double[] o = new double[dim / 2];
        for (int i = 0; i < o.length; i++) {
            o[i] = 1.0 / Math.pow(THETA, i / (dim / 2.0));
        }
        return o;
    }

    private static void fill(float[] table, int at, float pos, double[] omega) {
        for (int i = 0; i < omega.length; i++) {
            double a = (double) pos * omega[i];
            table[at + i] = (float) Math.sin(a);
            table[at + omega.length + i] = (float) Math.cos(a);
        }
    }

    /** The rotary tables {@code cos} and {@code sin}, each {@code [N, head_dim]} float32. */
    record Rope(Tensor cos, Tensor sin) {
    }

    /**
     * The pipeline's RoPE for {@code patchFrames x rows x cols} video tokens (after patching): channels
     * {@code [t: D/4 | h: 3D/8 | w: 3D/8]} of the head dim, interleaved pairs, theta 10000, in float32. CogVideoX
     * 1.5 ({@code patch_size_t}) uses integer positions ("slice" grid); 1.0 places the grid in the crop region of
     * the default size ({@code sample_height/p x sample_width/p}, "linspace" grid).
     */
    static Rope rope(CogVideoXConfig c, int patchFrames, int rows, int cols) {
        TensorOptions f32 = new TensorOptions(ScalarType.Float);
        Tensor t;
        Tensor h;
        Tensor w;
        if (c.temporalPatches()) {
            t = torch.arange(new Scalar(patchFrames), f32);
            h = torch.arange(new Scalar(rows), f32);
            w = torch.arange(new Scalar(cols), f32);
        } else {
            int baseW = c.sampleWidth() / c.patchSize();
            int baseH = c.sampleHeight() / c.patchSize();
            double[] crop = cropRegion(rows, cols, baseW, baseH);
            h = torch.linspace(new Scalar(crop[0]), new Scalar(crop[2] * (rows - 1) / rows), rows, f32);
            w = torch.linspace(new Scalar(crop[1]), new Scalar(crop[3] * (cols - 1) / cols), cols, f32);
            t = torch.linspace(new Scalar(0.0), new Scalar((double) patchFrames * (patchFrames - 1) / patchFrames),
                    patchFrames, f32);
        }
        int dim = c.headDim();
        Tensor[] ft = axis(t, dim / 4);
        Tensor[] fh = axis(h, dim / 8 * 3);
        Tensor[] fw = axis(w, dim / 8 * 3);
        return new Rope(combine(ft[0], fh[0], fw[0], patchFrames, rows, cols),
                combine(ft[1], fh[1], fw[1], patchFrames, rows, cols));
    }

    /** diffusers' {@code get_resize_crop_region_for_grid}: {top, left, bottom, right}, Python's rounding. */
    private static double[] cropRegion(int h, int w, int tw, int th) {
        double r = (double) h / w;
        long resizeH;
        long resizeW;
        if (r > (double) th / tw) {
            resizeH = th;
            resizeW = (long) Math.rint((double) th / h * w);
        } else {
            resizeW = tw;
            resizeH = (long) Math.rint((double) tw / w * h);
        }
        long top = (long) Math.rint((th - resizeH) / 2.0);
        long left = (long) Math.rint((tw - resizeW) / 2.0);
        return new double[] {top, left, top + resizeH, left + resizeW};
    }

    /** {@code get_1d_rotary_pos_embed(dim, pos, use_real=True)}: cos and sin {@code [S, dim]}, float32. */
    private static Tensor[] axis(Tensor pos, int dim) {
        TensorOptions f32 = new TensorOptions(ScalarType.Float);
        Tensor exps = torch.arange(new Scalar(0), new Scalar(dim), new Scalar(2), f32).div(new Scalar((double) dim));
        Tensor freqs = torch.pow(new Scalar(THETA), exps).reciprocal();
        Tensor angles = torch.outer(pos, freqs);
        return new Tensor[] {twice(angles.cos()), twice(angles.sin())};
    }

    /** Each column twice in a row: {@code repeat_interleave(2, dim=1)}. */
    private static Tensor twice(Tensor t) {
        return t.unsqueeze(-1).expand(t.size(0), t.size(1), 2).reshape(t.size(0), 2 * t.size(1));
    }

    private static Tensor combine(Tensor t, Tensor h, Tensor w, int frames, int rows, int cols) {
        Tensor tt = t.reshape(frames, 1, 1, -1).expand(frames, rows, cols, t.size(1));
        Tensor hh = h.reshape(1, rows, 1, -1).expand(frames, rows, cols, h.size(1));
        Tensor ww = w.reshape(1, 1, cols, -1).expand(frames, rows, cols, w.size(1));
        return torch.cat(new TensorVector(tt, hh, ww), -1).reshape((long) frames * rows * cols, -1).contiguous();
    }

    /**
     * Rotates interleaved pairs of each head's channels of {@code x} ({@code [B, S, H*D]}, merged heads) by the
     * tables ({@code [S, D]}): {@code x cos + rot(x) sin} with {@code rot(a, b) = (-b, a)}.
     */
    static Tensor apply(Tensor x, Rope rope, int heads) {
        long b = x.size(0);
        long s = x.size(1);
        long d = x.size(2) / heads;
        Tensor xh = x.reshape(b, s, heads, d);
        Tensor pairs = xh.reshape(b, s, heads, d / 2, 2);
        Tensor real = pairs.select(-1, 0);
        Tensor imag = pairs.select(-1, 1);
        Tensor rotated = torch.stack(new TensorVector(imag.neg(), real), -1).reshape(b, s, heads, d);
        Tensor cos = rope.cos().reshape(1, s, 1, d);
        Tensor sin = rope.sin().reshape(1, s, 1, d);
        ScalarType f32 = ScalarType.Float;
        return xh.to(f32).mul(cos).add(rotated.to(f32).mul(sin)).to(x.scalar_type().intern())
                .reshape(b, s, heads * d);
    }
}
