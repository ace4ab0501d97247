package io.ditcache.model.sd3;

import io.ditcache.model.layers.PatchProjection;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code PatchEmbed} with {@code pos_embed_max_size} (SD3): the stride-p convolution {@code proj}, patches
 * flattened row-major (h, w), plus the stored position table ({@code pos_embed}, a persistent buffer of
 * {@code [1, max*max, D]}) center-cropped to the latent's grid.
 */
final class SD3PatchEmbed extends Module {
    /** The stored position table's state-dict key. */
    static final String TABLE_KEY = "pos_embed.pos_embed";
    private final int patch;
    private final int dim;
    private final int maxSize;
    private final Tensor table;
    private final PatchProjection proj;

    SD3PatchEmbed(SD3Config c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.maxSize = c.posEmbedMaxSize();
        proj = register_module("proj", new PatchProjection(dim, c.inChannels(), patch));
        register_buffer("pos_embed", torch.zeros(1, (long) maxSize * maxSize, dim));
        // registration hands out references into a table that moves as it grows: keep a handle made afterwards
        this.table = new Tensor(buffers(false).get(0));
    }

    /** The stored table (the module's own tensor), for loading. */
    Tensor table() {
        return table;
    }

    /** {@code [N, C, H, W]} latents to {@code [N, (H/p)(W/p), D]} tokens with the cropped positions added. */
    Tensor forward(Tensor latents) {
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        Tensor x = proj.forward(latents);
        return x.add(positions(h, w));
    }

    /** The table cropped to the centre {@code h x w} of its grid: {@code [1, h*w, D]}. */
    Tensor positions(long h, long w) {
        if (h > maxSize || w > maxSize) {
            throw new IllegalArgumentException("a grid of " + h + " x " + w + " patches is larger than "
                    + "pos_embed_max_size " + maxSize);
        }
        long top = (maxSize - h) / 2;
        long left = (maxSize - w) / 2;
        return table.view(maxSize, maxSize, dim).narrow(0, top, h).narrow(1, left, w).reshape(1, h * w, dim);
    }
}
