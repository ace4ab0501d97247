package io.ditcache.model.opensora;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Open-Sora's {@code PatchEmbed3D} ({@code x_embedder}): the strided {@code Conv3d} ({@code proj.weight
 * [D, C, pt, ph, pw]}, {@code proj.bias}) run as one matmul, latents {@code [N, C, F, H, W]} to tokens
 * {@code [N, (F/pt)(H/ph)(W/pw), D]} flattened (t, h, w) as {@code flatten(2).transpose(1, 2)} does. Sizes must
 * be multiples of the patch (Open-Sora pads; ditcache refuses other sizes before the forward).
 */
final class PatchEmbed3D extends Module {
    private final int[] patch;
    private final long dim;
    private final Tensor weight;
    private final Tensor bias;
    /** Kept: JavaCPP holds a Java-made module weakly. */
    private final Module proj;

    PatchEmbed3D(long dim, long inChannels, int[] patch) {
        this.patch = patch.clone();
        this.dim = dim;
        Module proj = register_module("proj", new Module());
        proj.register_parameter("weight", torch.zeros(dim, inChannels, patch[0], patch[1], patch[2]));
        proj.register_parameter("bias", torch.zeros(dim));
        TensorVector params = proj.parameters();
        weight = new Tensor(params.get(0));
        bias = new Tensor(params.get(1));
        this.proj = proj;
    }

    /** {@code [N, C, F, H, W]} in the compute type to {@code [N, tokens, D]}. */
    Tensor forward(Tensor x) {
        long n = x.size(0);
        long c = x.size(1);
        long t = x.size(2) / patch[0];
        long h = x.size(3) / patch[1];
        long w = x.size(4) / patch[2];
        Tensor patches = x.reshape(n, c, t, patch[0], h, patch[1], w, patch[2]).permute(0, 2, 4, 6, 1, 3, 5, 7)
                .reshape(n, t * h * w, c * patch[0] * patch[1] * patch[2]);
        return torch.addmm(bias, patches.reshape(n * t * h * w, -1), weight.reshape(dim, -1).t())
                .view(n, t * h * w, dim);
    }

    /** The weight's dtype: the model's compute type. */
    ScalarType weightType() {
        return weight.scalar_type().intern();
    }
}
