package io.ditcache.model.opensora;

import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.RmsNorm;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Open-Sora's {@code Attention} as STDiT3Block's {@code attn}: {@code qkv} (bias), per-head LlamaRMSNorm
 * {@code q_norm} / {@code k_norm} (eps 1e-6) with {@code qk_norm}, the rotary embedding on q and k after the
 * norms in temporal blocks, softmax attention scaled by {@code head_dim^-0.5}, {@code proj}. It runs on sequences
 * already arranged by the block ({@code [(B T), S, C]} spatial, {@code [(B S), T, C]} temporal).
 */
final class SelfAttention extends Module {
    /** What one call computed, each {@code [N, L, C]} (merged heads): keys, values and the output. */
    record Result(Tensor k, Tensor v, Tensor out) {
    }

    private final int heads;
    private final int headDim;
    private final LinearImpl qkv;
    private final RmsNorm qNorm;
    private final RmsNorm kNorm;
    private final LinearImpl proj;

    SelfAttention(int dim, int heads, boolean qkNorm) {
        this.heads = heads;
        this.headDim = dim / heads;
        qkv = register_module("qkv", Linears.of(dim, 3L * dim, true));
        qNorm = qkNorm ? register_module("q_norm", new RmsNorm(headDim, 1e-6)) : null;
        kNorm = qkNorm ? register_module("k_norm", new RmsNorm(headDim, 1e-6)) : null;
        proj = register_module("proj", Linears.of(dim, dim, true));
    }

    /**
     * @param x     {@code [N, L, C]}
     * @param freqs the rotary frequencies ({@code rope.freqs}) for a temporal block, null for a spatial one
     */
    Result forward(Tensor x, Tensor freqs) {
        long n = x.size(0);
        long len = x.size(1);
        long c = x.size(2);
        TensorVector parts = qkv.forward(x).view(n, len, 3, heads, headDim).permute(2, 0, 3, 1, 4).unbind(0);
        Tensor q = parts.get(0);
        Tensor k = parts.get(1);
        Tensor v = parts.get(2);
        if (qNorm != null) {
            q = qNorm.forward(q);
            k = kNorm.forward(k);
        }
        if (freqs != null) {
            q = TemporalRope.rotate(q, freqs);
            k = TemporalRope.rotate(k, freqs);
        }
        Tensor o = Attention.merge(Attention.sdpaHeads(q, k, v, null));
        return new Result(Attention.merge(k), Attention.merge(v), proj.forward(o.reshape(n, len, c)));
    }
}
