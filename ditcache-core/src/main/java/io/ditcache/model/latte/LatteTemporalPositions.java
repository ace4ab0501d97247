package io.ditcache.model.latte;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' 1-D sin-cos table ({@code get_1d_sincos_pos_embed_from_grid}) over the frame indices
 * {@code 0..video_length-1}, Latte's {@code temp_pos_embed} (a non-persistent buffer, so computed, never loaded):
 * for frame {@code f}, {@code [sin(f*omega), cos(f*omega)]} with {@code omega_k = 10000^(-k/(D/2))}, computed in
 * float64 and stored as float32, {@code [1, F, D]}.
 */
final class LatteTemporalPositions {
    private LatteTemporalPositions() {
    }

    /** {@code [1, frames, dim]} float32. */
    static Tensor table(int dim, long frames) {
        int half = dim / 2;
        Tensor omega = torch.arange(new Scalar(0), new Scalar(half), new TensorOptions(ScalarType.Double))
                .div(new Scalar((double) half));
        omega = torch.pow(new Scalar(10000.0), omega).reciprocal();
        Tensor pos = torch.arange(new Scalar(0), new Scalar(frames), new TensorOptions(ScalarType.Double));
        Tensor angles = pos.unsqueeze(1).mul(omega.unsqueeze(0));
        return torch.cat(new TensorVector(angles.sin(), angles.cos()), 1).to(ScalarType.Float).unsqueeze(0)
                .contiguous();
    }
}
