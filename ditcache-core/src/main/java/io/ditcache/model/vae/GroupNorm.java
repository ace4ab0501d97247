package io.ditcache.model.vae;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.GroupNorm} with affine weight and bias and the VAE's eps of 1e-6 (not PyTorch's default 1e-5). */
final class GroupNorm extends Module {
    static final double EPS = 1e-6;
    private final long groups;
    private final Tensor weight;
    private final Tensor bias;

    GroupNorm(long groups, long channels) {
        this.groups = groups;
        register_parameter("weight", torch.ones(channels));
        register_parameter("bias", torch.zeros(channels));
        TensorVector params = parameters();
        weight = new Tensor(params.get(0));
        bias = new Tensor(params.get(1));
    }

    Tensor forward(Tensor x) {
        return torch.group_norm(x, groups, new TensorOptional(weight), new TensorOptional(bias), EPS, false);
    }

    /** The norm followed by SiLU, applied in place on the norm's output. */
    Tensor forwardSilu(Tensor x) {
        Tensor out = forward(x);
        // the in-place op returns a second, non-owning handle: keep the owning one, which frees the storage
        torch.silu_(out);
        return out;
    }
}
