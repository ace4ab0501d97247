package io.ditcache.model.layers;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** Scaled dot-product attention on merged heads ({@code [N, S, H*D]}), as diffusers' attention processors run it. */
public final class Attention {
    private Attention() {
    }

    /** {@code [N, S, H*D]} to {@code [N, H, S, D]}. */
    public static Tensor split(Tensor t, int heads) {
        long n = t.size(0);
        long s = t.size(1);
        return t.view(n, s, heads, t.size(2) / heads).transpose(1, 2);
    }

    /** {@code [N, H, S, D]} to {@code [N, S, H*D]}. */
    public static Tensor merge(Tensor t) {
        return t.transpose(1, 2).reshape(t.size(0), t.size(2), t.size(1) * t.size(3));
    }

    /**
     * Attention of {@code q} over {@code k}, {@code v}.
     *
     * @param q    {@code [N, S, H*D]}
     * @param k    {@code [N, L, H*D]}
     * @param v    {@code [N, L, H*D]}
     * @param mask null, or a bool {@code [N, 1, 1, L]} / {@code [N, 1, S, L]} mask (true = attend) or an additive
     *             float bias of those shapes
     * @return {@code [N, S, H*D]}
     */
    public static Tensor sdpa(Tensor q, Tensor k, Tensor v, int heads, Tensor mask) {
        return merge(sdpaHeads(split(q, heads), split(k, heads), split(v, heads), mask));
    }

    /** As {@link #sdpa} on split heads ({@code [N, H, S, D]}), returning split heads. */
    public static Tensor sdpaHeads(Tensor q, Tensor k, Tensor v, Tensor mask) {
        if (mask == null) {
            return torch.scaled_dot_product_attention(q, k, v);
        }
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(mask), 0.0, false,
                new DoubleOptional(), false);
    }
}
