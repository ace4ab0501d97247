package io.ditcache.model.text;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.LayerNorm} over the last dimension with {@code weight} and {@code bias}, in the weights' dtype. */
final class LayerNorm extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;

    LayerNorm(long dim, double eps) {
        this.eps = eps;
        // handles of our own: a reference into the module's parameter list moves as the list grows
        weight = new Tensor(register_parameter("weight", torch.ones(dim)));
        bias = new Tensor(register_parameter("bias", torch.zeros(dim)));
    }

    Tensor forward(Tensor x) {
        return torch.layer_norm(x, new long[] {x.size(-1)}, new TensorOptional(weight), new TensorOptional(bias), eps,
                false);
    }
}
