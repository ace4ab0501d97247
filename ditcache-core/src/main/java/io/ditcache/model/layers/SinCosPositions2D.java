package io.ditcache.model.layers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' 2-D sin-cos position table ({@code get_2d_sincos_pos_embed}) with PixArt's base size and
 * interpolation scale: the coordinates of a grid of {@code h × w} patches are {@code arange(n) / (n / base) /
 * interpolation_scale}, computed in float32 by the same libtorch kernels as diffusers, so that a grid at another
 * resolution gets the same rounding; the sines and cosines are taken in float64 and stored as float32. For token
 * {@code t = i*w + j} the first half of the channels encodes the column coordinate and the second half the row
 * coordinate, each {@code [sin(pos*omega), cos(pos*omega)]} with {@code omega_k = 10000^(-k/(D/4))}.
 */
public final class SinCosPositions2D {
    private SinCosPositions2D() {
    }

    /** {@code [1, h*w, dim]} float32. */
    public static Tensor table(int dim, long h, long w, int baseSize, double interpolationScale) {
        Tensor rows = coordinates(h, baseSize, interpolationScale).repeat_interleave(w);
        Tensor cols = coordinates(w, baseSize, interpolationScale).repeat(h);
        int quarter = dim / 4;
        Tensor omega = torch.arange(new Scalar(0), new Scalar(quarter), new TensorOptions(ScalarType.Double))
                .div(new Scalar((double) quarter));
        omega = torch.pow(new Scalar(10000.0), omega).reciprocal();
        Tensor out = torch.cat(new TensorVector(half(cols, omega), half(rows, omega)), 1);
        return out.to(ScalarType.Float).unsqueeze(0).contiguous();
    }

    private static Tensor coordinates(long n, int baseSize, double interpolationScale) {
        return torch.arange(new Scalar(0), new Scalar(n), new TensorOptions(ScalarType.Float))
                .div(new Scalar((double) n / baseSize)).div(new Scalar(interpolationScale));
    }

    /** {@code [M, D/2]}: sines then cosines of the float32 positions times the float64 frequencies. */
    private static Tensor half(Tensor pos, Tensor omega) {
        Tensor angles = pos.to(ScalarType.Double).unsqueeze(1).mul(omega.unsqueeze(0));
        return torch.cat(new TensorVector(angles.sin(), angles.cos()), 1);
    }
}
