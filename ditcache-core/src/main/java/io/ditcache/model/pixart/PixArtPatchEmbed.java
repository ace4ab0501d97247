package io.ditcache.model.pixart;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code PatchEmbed} as PixArt builds it ({@code pos_embed}): patchify with the weights of a strided
 * convolution ({@code pos_embed.proj}), flatten the patches row-major (h, w) and add the 2-D sin-cos position
 * table, a non-persistent buffer in diffusers, so computed here ({@link PixArtPositions}), never loaded. The table
 * of the last grid size is kept.
 */
final class PixArtPatchEmbed extends Module {
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final double interpolationScale;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module proj;
    private final Tensor weight;
    private final Tensor bias;
    private Tensor positions;
    private long positionsH = -1;
    private long positionsW = -1;

    PixArtPatchEmbed(PixArtConfig c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.baseSize = c.gridSize();
        this.interpolationScale = c.interpolationScale();
        proj = register_module("proj", new Module());
        proj.register_parameter("weight", torch.zeros(dim, c.inChannels(), patch, patch));
        proj.register_parameter("bias", torch.zeros(dim));
        // handles of our own, sharing storage: the references register_parameter returns move as the table grows
        StringTensorDict params = proj.named_parameters(false);
        this.weight = new Tensor(params.get(0).value());
        this.bias = new Tensor(params.get(1).value());
    }

    /**
     * {@code [N, C, H, W]} latents in the compute type to {@code [N, (H/p)(W/p), D]} tokens with positions added
     * (in float32 and cast back, as diffusers adds its float32 table).
     */
    Tensor forward(Tensor latents) {
        long n = latents.size(0);
        long c = latents.size(1);
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        // the stride-p convolution as one matmul: patches (c, p, p), row-major (h, w), against the flat kernel
        Tensor patches = latents.reshape(n, c, h, patch, w, patch).permute(0, 2, 4, 1, 3, 5)
                .reshape(n, h * w, c * patch * patch);
        Tensor x = torch.linear(patches, weight.reshape(dim, c * patch * patch), new TensorOptional(bias));
        return x.add(positions(h, w)).to(x.scalar_type().intern());
    }

    /** The dtype of the projection's weight: the model's compute type. */
    ScalarType weightType() {
        return weight.scalar_type().intern();
    }

    /** The position table {@code [1, h*w, D]} of a grid of h × w patches. */
    synchronized Tensor positions(long h, long w) {
        if (h != positionsH || w != positionsW) {
            Tensor old = positions;
            positions = PixArtPositions.table(dim, h, w, baseSize, interpolationScale);
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
