package io.ditcache.model.cogvideox;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code nn.LayerNorm(dim, eps)} with its affine {@code weight} and {@code bias} over the last dimension, as
 * CogVideoX uses it in every norm ({@code norm1.norm}, {@code norm2.norm}, {@code attn1.norm_q/norm_k},
 * {@code norm_final}, {@code norm_out.norm}). The shared layers have only the weightless LayerNorm.
 */
final class AffineLayerNorm extends Module {
    private final long dim;
    private final double eps;
    private final Tensor weight;
    private final Tensor bias;

    AffineLayerNorm(long dim, double eps) {
        this.dim = dim;
        this.eps = eps;
        register_parameter("weight", torch.ones(dim));
        register_parameter("bias", torch.zeros(dim));
        // handles taken once registration is complete: the module's table moves as it grows
        TensorVector params = parameters();
        this.weight = new Tensor(params.get(0));
        this.bias = new Tensor(params.get(1));
    }

    /** The normalised {@code x}, in {@code x}'s dtype. */
    Tensor forward(Tensor x) {
        return torch.layer_norm(x, new long[] {dim}, new TensorOptional(weight), new TensorOptional(bias), eps,
                false);
    }
}
