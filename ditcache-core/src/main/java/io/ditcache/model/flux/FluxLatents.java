package io.ditcache.model.flux;

import io.ditcache.internal.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * FluxPipeline's latent layout: the VAE latent {@code [N, C, H, W]} packed into tokens of 2x2 patches
 * ({@code [N, (H/2)(W/2), 4C]}, row-major over the patch grid, each token's channels {@code c * 4 + dy * 2 + dx}),
 * the image position ids of that grid, and the way back.
 */
final class FluxLatents {
    private FluxLatents() {
    }

    /** {@code _pack_latents}: {@code [N, C, H, W]} (H, W even) to {@code [N, (H/2)(W/2), 4C]}. */
    static Tensor pack(Tensor latents) {
        long n = latents.size(0);
        long c = latents.size(1);
        long h = latents.size(2) / 2;
        long w = latents.size(3) / 2;
        return latents.view(n, c, h, 2, w, 2).permute(0, 2, 4, 1, 3, 5).reshape(n, h * w, c * 4);
    }

    /** {@code _unpack_latents}: {@code [N, (H/2)(W/2), 4C]} to {@code [N, C, H, W]}. */
    static Tensor unpack(Tensor tokens, long height, long width) {
        long n = tokens.size(0);
        long c = tokens.size(2) / 4;
        return tokens.view(n, height / 2, width / 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(n, c, height, width);
    }

    /**
     * {@code _prepare_latent_image_ids}: {@code (0, row, col)} per token of an {@code h x w} grid, row-major,
     * {@code [h * w, 3]} float32.
     */
    static Tensor imageIds(long h, long w) {
        float[] ids = new float[Math.toIntExact(h * w * 3)];
        for (long r = 0; r < h; r++) {
            for (long c = 0; c < w; c++) {
                int i = (int) ((r * w + c) * 3);
                ids[i + 1] = r;
                ids[i + 2] = c;
            }
        }
        return Tensors.fromFloats(ids, h * w, 3);
    }
}
