package io.ditcache.model.dit;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Patchify by a strided convolution ({@code pos_embed.proj}), flatten patches row-major (h, w) and add the fixed
 * 2-D sin-cos position table (a non-persistent buffer in diffusers, so computed here, never loaded).
 */
final class PatchEmbed extends Module {
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final Tensor weight;
    private final Tensor bias;
    private Tensor positions;
    private int positionsH = -1;
    private int positionsW = -1;

    PatchEmbed(DiTConfig c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.baseSize = c.gridSize();
        Module proj = register_module("proj", new Module());
        this.weight = proj.register_parameter("weight", torch.zeros(dim, c.inChannels(), patch, patch));
        this.bias = proj.register_parameter("bias", torch.zeros(dim));
    }

    /** {@code [N, C, H, W]} latents to {@code [N, (H/p)(W/p), D]} tokens with positions added. */
    Tensor forward(Tensor latents) {
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        Tensor x = torch.conv2d(latents, weight, new TensorOptional(bias), new long[] {patch, patch},
                new long[] {0, 0}, new long[] {1, 1}, 1);
        x = x.flatten(2, -1).transpose(1, 2);
        return x.add(positions((int) h, (int) w));
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
