package io.ditcache.model.dit;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Patchify with the weights of a strided convolution ({@code pos_embed.proj}), flatten patches row-major (h, w) and add the fixed
 * 2-D sin-cos position table (a non-persistent buffer in diffusers, so computed here, never loaded).
 */
final class PatchEmbed extends Module {
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final Tensor weight;
    private final Tensor bias;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module proj;
    private Tensor positions;
    private int positionsH = -1;
    private int positionsW = -1;

    PatchEmbed(DiTConfig c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.baseSize = c.gridSize();
        proj = register_module("proj", new Module());
        proj.register_parameter("weight", torch.zeros(dim, c.inChannels(), patch, patch));
        proj.register_parameter("bias", torch.zeros(dim));
        // register_parameter returns a reference into the module's table, which moves as it grows, and elements
        // of a TensorVector die with it: keep our own handles (sharing storage) once registration is complete.
        org.bytedeco.pytorch.TensorVector params = proj.parameters();
        this.weight = new Tensor(params.get(0));
        this.bias = new Tensor(params.get(1));
    }

    /** {@code [N, C, H, W]} latents to {@code [N, (H/p)(W/p), D]} tokens with positions added. */
    Tensor forward(Tensor latents) {
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        long n = latents.size(0);
        long c = latents.size(1);
        // The stride-p convolution as one matmul: patches (c, p, p) row-major (h, w) against the flattened kernel.
        Tensor patches = latents.reshape(n, c, h, patch, w, patch).permute(0, 2, 4, 1, 3, 5)
                .reshape(n, h * w, c * patch * patch);
        Tensor x = torch.linear(patches, weight.reshape(dim, c * patch * patch), new TensorOptional(bias));
        return x.add(positions((int) h, (int) w).to(x.scalar_type().intern()));
    }

    /** The dtype of the projection's weight: the model's compute type. */
    ScalarType weightType() {
        return weight.scalar_type().intern();
    }

    /** The position table {@code [1, h*w, D]} for a grid of h × w patches. */
    synchronized Tensor positions(int h, int w) {
        if (h != positionsH || w != positionsW) {
            Tensor old = positions;
            positions = SinCosPositions.table(dim, h, w, baseSize);
            positions.retainReference();
            if (old != null) {
                old.releaseReference();
            }
            positionsH = h;
            positionsW = w;
        }
        return positions;
    }
}
