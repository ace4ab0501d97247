package io.ditcache.model.opensora;

import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Open-Sora's {@code MultiHeadCrossAttention} ({@code cross_attn}): {@code q_linear} on the video tokens,
 * {@code kv_linear} on the projected caption, attention of each sample's tokens over its own caption's kept tokens
 * (Open-Sora packs the kept tokens and uses xformers' block-diagonal mask; a boolean mask per row is the same),
 * {@code proj}. No norm before it, no gate after it.
 */
final class CaptionAttention extends Module {
    private final int heads;
    private final LinearImpl qLinear;
    private final LinearImpl kvLinear;
    private final LinearImpl proj;

    CaptionAttention(int dim, int heads) {
        this.heads = heads;
        qLinear = register_module("q_linear", Linears.of(dim, dim, true));
        kvLinear = register_module("kv_linear", Linears.of(dim, 2L * dim, true));
        proj = register_module("proj", Linears.of(dim, dim, true));
    }

    /**
     * @param x    {@code [B, N, C]} video tokens
     * @param y    {@code [B, L, C]} projected caption
     * @param mask bool {@code [B, 1, 1, L]} (true = attend), or null for all tokens
     */
    Tensor forward(Tensor x, Tensor y, Tensor mask) {
        long b = y.size(0);
        long len = y.size(1);
        long c = y.size(2);
        TensorVector kv = kvLinear.forward(y).view(b, len, 2, c).unbind(2);
        return proj.forward(Attention.sdpa(qLinear.forward(x), kv.get(0), kv.get(1), heads, mask));
    }
}
