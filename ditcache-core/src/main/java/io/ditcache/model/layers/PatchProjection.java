package io.ditcache.model.layers;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The strided convolution of diffusers' {@code PatchEmbed} ({@code proj.weight [D, C, p, p]}, {@code proj.bias}),
 * run as one matmul: latents {@code [N, C, H, W]} to tokens {@code [N, (H/p)(W/p), D]}, patches flattened
 * row-major (h, w), each patch's elements in (c, p, p) order as the convolution reads them.
 */
public final class PatchProjection extends Module {
    private final long patch;
    private final long dim;
    private final Tensor weight;
    private final Tensor bias;

    public PatchProjection(long dim, long inChannels, long patch) {
        this.patch = patch;
        this.dim = dim;
        register_parameter("weight", torch.zeros(dim, inChannels, patch, patch));
        register_parameter("bias", torch.zeros(dim));
        // register_parameter returns a reference into the module's table, which moves as it grows, and elements
        // of a TensorVector die with it: keep our own handles (sharing storage) once registration is complete.
        TensorVector params = parameters();
        this.weight = new Tensor(params.get(0));
        this.bias = new Tensor(params.get(1));
    }

    /** {@code [N, C, H, W]} latents (H, W multiples of the patch size) to {@code [N, (H/p)(W/p), D]} tokens. */
    public Tensor forward(Tensor latents) {
        long n = latents.size(0);
        long c = latents.size(1);
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        Tensor patches = latents.reshape(n, c, h, patch, w, patch).permute(0, 2, 4, 1, 3, 5)
                .reshape(n, h * w, c * patch * patch);
        return torch.linear(patches, weight.reshape(dim, c * patch * patch), new TensorOptional(bias));
    }

    /** The dtype of the weight: the model's compute type. */
    public ScalarType weightType() {
        return weight.scalar_type().intern();
    }
}
