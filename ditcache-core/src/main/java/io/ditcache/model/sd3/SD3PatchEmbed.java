package io.ditcache.model.sd3;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
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
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor table;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module proj;

    SD3PatchEmbed(SD3Config c) {
        this.patch = c.patchSize();
        this.dim = c.innerDim();
        this.maxSize = c.posEmbedMaxSize();
        proj = register_module("proj", new Module());
        proj.register_parameter("weight", torch.zeros(dim, c.inChannels(), patch, patch));
        proj.register_parameter("bias", torch.zeros(dim));
        register_buffer("pos_embed", torch.zeros(1, (long) maxSize * maxSize, dim));
        // registration hands out references into tables that move as they grow: keep handles made afterwards
        TensorVector params = proj.parameters();
        this.weight = new Tensor(params.get(0));
        this.bias = new Tensor(params.get(1));
        this.table = new Tensor(buffers(false).get(0));
    }

    /** The stored table (the module's own tensor), for loading. */
    Tensor table() {
        return table;
    }

    /** {@code [N, C, H, W]} latents to {@code [N, (H/p)(W/p), D]} tokens with the cropped positions added. */
    Tensor forward(Tensor latents) {
        long n = latents.size(0);
        long c = latents.size(1);
        long h = latents.size(2) / patch;
        long w = latents.size(3) / patch;
        // the stride-p convolution as one matmul: patches (c, p, p) row-major (h, w) against the flattened kernel
        Tensor patches = latents.reshape(n, c, h, patch, w, patch).permute(0, 2, 4, 1, 3, 5)
                .reshape(n, h * w, c * patch * patch);
        Tensor x = torch.linear(patches, weight.reshape(dim, c * patch * patch), new TensorOptional(bias));
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
