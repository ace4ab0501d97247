package io.ditcache.model.layers;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code PatchEmbed} as PixArt builds it ({@code pos_embed}): patchify with the weights of a strided
 * convolution ({@code pos_embed.proj}), flatten the patches row-major (h, w) and add the 2-D sin-cos position
 * table, a non-persistent buffer in diffusers, so computed here ({@link SinCosPositions2D}), never loaded. The table
 * of the last grid size is kept.
 */
public final class SinCosPatchEmbed extends Module {
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final double interpolationScale;
    private final PatchProjection proj;
    private Tensor positions;
    private long positionsH = -1;
    private long positionsW = -1;

    /**
     * @param baseSize           the grid side the positions are scaled to (sample size / patch size)
     * @param interpolationScale PixArt's {@code interpolation_scale}
     */
    public SinCosPatchEmbed(int dim, long inChannels, int patch, int baseSize, double interpolationScale) {
        this.patch = patch;
        this.dim = dim;
        this.baseSize = baseSize;
        this.interpolationScale = interpolationScale;
        proj = register_module("proj", new PatchProjection(dim, inChannels, patch));
    }

    /**
     * {@code [N, C, H, W]} latents in the compute type to {@code [N, (H/p)(W/p), D]} tokens with positions added
     * (in float32 and cast back, as diffusers adds its float32 table).
     */
    public Tensor forward(Tensor latents) {
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        Tensor x = proj.forward(latents);
        return x.add(positions(h, w)).to(x.scalar_type().intern());
    }

    /** The dtype of the projection's weight: the model's compute type. */
    public ScalarType weightType() {
        return proj.weightType();
    }

    /** The position table {@code [1, h*w, D]} of a grid of h × w patches. */
    public synchronized Tensor positions(long h, long w) {
        if (h != positionsH || w != positionsW) {
            Tensor old = positions;
            positions = SinCosPositions2D.table(dim, h, w, baseSize, interpolationScale);
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
