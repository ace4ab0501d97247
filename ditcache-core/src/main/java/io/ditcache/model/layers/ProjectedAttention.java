package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code Attention} with {@code AttnProcessor2_0} as PixArt's blocks use it: {@code to_q}, {@code to_k},
 * {@code to_v} (bias as {@code attention_bias}), scaled dot-product attention over merged heads, {@code to_out.0}.
 * Self-attention ({@code attn1}) takes keys and values from its input; cross-attention ({@code attn2}) from the
 * projected caption, with the caption mask as an additive bias.
 */
public final class ProjectedAttention extends Module {
    /** What one call computed, each {@code [N, tokens, H*D]}: the projections and the module's output. */
    public record Result(Tensor q, Tensor k, Tensor v, Tensor out) {
    }

    private final int heads;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    private final LinearImpl toOut;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module out;

    public ProjectedAttention(long dim, long keyValueIn, int heads, boolean bias) {
        this.heads = heads;
        toQ = register_module("to_q", Linears.of(dim, dim, bias));
        toK = register_module("to_k", Linears.of(keyValueIn, dim, bias));
        toV = register_module("to_v", Linears.of(keyValueIn, dim, bias));
        out = register_module("to_out", new Module());
        toOut = out.register_module("0", Linears.of(dim, dim, true));
    }

    /**
     * @param x       {@code [N, S, dim]} queries
     * @param context {@code [N, L, keyValueIn]} keys' and values' input, or null for self-attention
     * @param bias    additive bias {@code [N, 1, 1, L]} (0 keeps a token, -10000 drops it), or null
     */
    public Result forward(Tensor x, Tensor context, Tensor bias) {
        Tensor kv = context == null ? x : context;
        Tensor q = toQ.forward(x);
        Tensor k = toK.forward(kv);
        Tensor v = toV.forward(kv);
        return new Result(q, k, v, toOut.forward(Attention.sdpa(q, k, v, heads, bias)));
    }
}
