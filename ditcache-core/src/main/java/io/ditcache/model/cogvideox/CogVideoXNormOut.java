package io.ditcache.model.cogvideox;

import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code AdaLayerNorm} as CogVideoX's {@code norm_out} builds it ({@code chunk_dim=1}):
 * {@code linear(silu(temb))} chunked as (shift, scale) - not (scale, shift) as {@code AdaLayerNormContinuous} -
 * and its own affine LayerNorm.
 */
final class CogVideoXNormOut extends Module {
    private final LinearImpl linear;
    private final AffineLayerNorm norm;

    CogVideoXNormOut(long conditioningDim, long dim, double eps) {
        linear = register_module("linear", Linears.of(conditioningDim, 2 * dim, true));
        norm = register_module("norm", new AffineLayerNorm(dim, eps));
    }

    /** {@code norm(x) * (1 + scale) + shift} for tokens {@code [N, S, D]} and {@code temb [N, E]}. */
    Tensor forward(Tensor x, Tensor temb) {
        TensorVector c = linear.forward(torch.silu(temb)).chunk(2, 1);
        Tensor shift = c.get(0).unsqueeze(1);
        Tensor scale = c.get(1).unsqueeze(1);
        return norm.forward(x).mul(scale.add(new Scalar(1.0))).add(shift);
    }
}
