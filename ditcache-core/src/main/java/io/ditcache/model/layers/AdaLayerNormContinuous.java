package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code AdaLayerNormContinuous} with a LayerNorm (eps 1e-6, no affine): {@code linear} of
 * {@code silu(emb)} chunked as scale, then shift (this order, unlike {@link AdaLayerNormZero}), and
 * {@code norm(x) * (1 + scale) + shift}. SD3's and FLUX's {@code norm_out}, SD3's last {@code norm1_context}.
 */
public final class AdaLayerNormContinuous extends Module {
    private static final double EPS = 1e-6;
    private final LinearImpl linear;

    public AdaLayerNormContinuous(long dim, long conditioningDim) {
        linear = register_module("linear", Linears.of(conditioningDim, 2 * dim, true));
    }

    /** {@code x [N, S, dim]} modulated by {@code emb [N, conditioningDim]}. */
    public Tensor forward(Tensor x, Tensor emb) {
        TensorVector m = linear.forward(torch.silu(emb).to(x.scalar_type().intern())).chunk(2, 1);
        return Norms.modulate(Norms.layerNorm(x, EPS), m.get(1).unsqueeze(1), m.get(0).unsqueeze(1));
    }
}
