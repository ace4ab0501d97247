package io.ditcache.model.dit;

import io.ditcache.model.layers.PatchProjection;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Patchify with the weights of a strided convolution ({@code pos_embed.proj}), flatten patches row-major (h, w) and add the fixed
 * 2-D sin-cos position table (a non-persistent buffer in diffusers, so computed here, never loaded).
 */
final class PatchEmbed extends Module {
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final PatchProjection proj;
    private Tensor positions;
    private int positionsH = -1;
    private int positionsW = -1;

    PatchEmbed(DiTConfig c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.baseSize = c.gridSize();
        proj = register_module("proj", new PatchProjection(dim, c.inChannels(), patch));
    }

    /** {@code [N, C, H, W]} latents to {@code [N, (H/p)(W/p), D]} tokens with positions added. */
    Tensor forward(Tensor latents) {
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        Tensor x = proj.forward(latents);
        return x.add(positions((int) h, (int) w).to(x.scalar_type().intern()));
    }

    /** The dtype of the projection's weight: the model's compute type. */
    ScalarType weightType() {
        return proj.weightType();
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
