package io.ditcache.model.sd3;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Probes;
import io.ditcache.model.layers.RmsNorm;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code Attention} as SD3 builds it, run as {@code JointAttnProcessor2_0}: q/k/v projections of the
 * image tokens, optionally (the joint {@code attn}) the context's {@code add_q/k/v_proj}, per-head RMS norms of q
 * and k when {@code qk_norm = "rms_norm"} (eps 1e-6), one softmax over the tokens concatenated as
 * {@code [image; context]}, and the output projections {@code to_out.0} (image) and {@code to_add_out} (context,
 * absent in the last, {@code context_pre_only} block). Without added projections it is SD3.5's image-only
 * {@code attn2}.
 *
 * <p>Queries are independent rows of the softmax: when a cache reuses one stream's output, only the other
 * stream's queries are computed, over the keys and values of both.
 */
final class SD3Attention extends Module {
    private static final double EPS = 1e-6;
    private final int heads;
    private final int layer;
    private final RmsNorm normQ;
    private final RmsNorm normK;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    private final LinearImpl addK;
    private final LinearImpl addV;
    private final LinearImpl addQ;
    private final LinearImpl toOut;
    private final LinearImpl toAddOut;
    private final RmsNorm normAddedQ;
    private final RmsNorm normAddedK;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module toOutList;

    /** Both streams' outputs; either may be null when not asked for. */
    record Output(Tensor image, Tensor context) {
    }

    /**
     * @param added      whether the context stream takes part (the joint {@code attn})
     * @param contextOut whether the context output is projected by {@code to_add_out}
     */
    SD3Attention(SD3Config c, int layer, boolean added, boolean contextOut) {
        this.heads = c.numHeads();
        this.layer = layer;
        long d = c.innerDim();
        boolean qk = c.qkRmsNorm();
        // registration order is diffusers': norm_q, norm_k, to_q, to_k, to_v, add_k/v/q_proj, to_out, to_add_out,
        // norm_added_q, norm_added_k
        normQ = qk ? register_module("norm_q", new RmsNorm(c.headDim(), EPS)) : null;
        normK = qk ? register_module("norm_k", new RmsNorm(c.headDim(), EPS)) : null;
        toQ = register_module("to_q", Linears.of(d, d, true));
        toK = register_module("to_k", Linears.of(d, d, true));
        toV = register_module("to_v", Linears.of(d, d, true));
        addK = added ? register_module("add_k_proj", Linears.of(d, d, true)) : null;
        addV = added ? register_module("add_v_proj", Linears.of(d, d, true)) : null;
        addQ = added ? register_module("add_q_proj", Linears.of(d, d, true)) : null;
        toOutList = register_module("to_out", new Module());
        toOut = toOutList.register_module("0", Linears.of(d, d, true));
        toAddOut = added && contextOut ? register_module("to_add_out", Linears.of(d, d, true)) : null;
        normAddedQ = added && qk ? register_module("norm_added_q", new RmsNorm(c.headDim(), EPS)) : null;
        normAddedK = added && qk ? register_module("norm_added_k", new RmsNorm(c.headDim(), EPS)) : null;
    }

    /** SD3.5's {@code attn2}: self-attention of the image tokens alone. */
    Tensor forward(Tensor x) {
        Tensor q = headNorm(normQ, toQ.forward(x));
        Tensor k = headNorm(normK, toK.forward(x));
        return toOut.forward(Attention.sdpa(q, k, toV.forward(x), heads, null));
    }

    /**
     * The joint attention.
     *
     * @param x       the modulated image tokens {@code [N, S, D]}
     * @param ctx     the modulated context tokens {@code [N, T, D]}
     * @param image   whether the image stream's output is wanted
     * @param context whether the context stream's output is wanted
     */
    Output forward(Tensor x, Tensor ctx, boolean image, boolean context, Step step, ActivationProbe probe) {
        Tensor k = headNorm(normK, toK.forward(x));
        Tensor v = toV.forward(x);
        Probes.observe(probe, step, Site.of(layer, SiteKind.K), k);
        Probes.observe(probe, step, Site.of(layer, SiteKind.V), v);
        Tensor ck = headNorm(normAddedK, addK.forward(ctx));
        Tensor cv = addV.forward(ctx);
        Probes.observe(probe, step, new Site(layer, SiteKind.K, TokenStream.TEXT), ck);
        Probes.observe(probe, step, new Site(layer, SiteKind.V, TokenStream.TEXT), cv);
        Tensor keys = torch.cat(new TensorVector(k, ck), 1);
        Tensor values = torch.cat(new TensorVector(v, cv), 1);
        Tensor q = image ? headNorm(normQ, toQ.forward(x)) : null;
        Tensor cq = context ? headNorm(normAddedQ, addQ.forward(ctx)) : null;
        Tensor queries = q == null ? cq : cq == null ? q : torch.cat(new TensorVector(q, cq), 1);
        Tensor out = Attention.sdpa(queries, keys, values, heads, null);
        long s = x.size(1);
        Tensor a = null;
        Tensor ac = null;
        if (image) {
            a = toOut.forward(context ? out.narrow(1, 0, s) : out);
            Probes.observe(probe, step, Site.of(layer, SiteKind.ATTN_OUT), a);
        }
        if (context) {
            ac = image ? out.narrow(1, s, ctx.size(1)) : out;
            ac = toAddOut == null ? ac : toAddOut.forward(ac);
            Probes.observe(probe, step, new Site(layer, SiteKind.ATTN_OUT, TokenStream.TEXT), ac);
        }
        return new Output(a, ac);
    }

    /** The per-head RMS norm of merged heads {@code [N, S, H*D]}, or {@code t} itself without one. */
    private Tensor headNorm(RmsNorm norm, Tensor t) {
        if (norm == null) {
            return t;
        }
        long n = t.size(0);
        long s = t.size(1);
        return norm.forward(t.view(n, s, heads, t.size(2) / heads)).reshape(n, s, t.size(2));
    }
}
