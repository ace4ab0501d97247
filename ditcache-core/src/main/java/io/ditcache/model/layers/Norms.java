package io.ditcache.model.layers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** LayerNorm without affine parameters and adaLN modulation, as every DiT-style block uses them. */
public final class Norms {
    private Norms() {
    }

    /** LayerNorm over the last dimension, no weight or bias. */
    public static Tensor layerNorm(Tensor x, double eps) {
        return torch.layer_norm(x, new long[] {x.size(-1)}, new TensorOptional(), new TensorOptional(), eps, false);
    }

    /** {@code x * (1 + scale) + shift}. */
    public static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        return x.mul(scale.add(new Scalar(1.0))).add(shift);
    }
}
