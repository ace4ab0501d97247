package io.ditcache.model.latte;

import io.ditcache.model.layers.PatchProjection;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code PatchEmbed} as PixArt builds it ({@code pos_embed}): patchify with the weights of a strided
 * convolution ({@code pos_embed.proj}), flatten the patches row-major (h, w) and add the 2-D sin-cos position
 * table, a non-persistent buffer in diffusers, so computed here ({@link LattePositions}), never loaded. The table
 * of the last grid size is kept.
 */
final class LattePatchEmbed extends Module {
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final double interpolationScale;
    private final PatchProjection proj;
    private Tensor positions;
    private long positionsH = -1;
    private long positionsW = -1;

    LattePatchEmbed(LatteConfig c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.baseSize = c.gridSize();
        this.interpolationScale = c.interpolationScale();
        proj = register_module("proj", new PatchProjection(dim, c.inChannels(), patch));
    }

    /**
     * {@code [N, C, H, W]} latents in the compute type to {@code [N, (H/p)(W/p), D]} tokens with positions added
     * (in float32 and cast back, as diffusers adds its float32 table).
     */
    Tensor forward(Tensor latents) {
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        Tensor x = proj.forward(latents);
        return x.add(positions(h, w)).to(x.scalar_type().intern());
    }

    /** The dtype of the projection's weight: the model's compute type. */
    ScalarType weightType() {
        return proj.weightType();
    }

    /** The position table {@code [1, h*w, D]} of a grid of h × w patches. */
    synchronized Tensor positions(long h, long w) {
        if (h != positionsH || w != positionsW) {
            Tensor old = positions;
            positions = LattePositions.table(dim, h, w, baseSize, interpolationScale);
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
