package io.ditcache.model.cogvideox;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Probes;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code Attention} as CogVideoX builds it, run as {@code CogVideoXAttnProcessor2_0}: ONE set of
 * {@code to_q/to_k/to_v}, per-head LayerNorms {@code norm_q/norm_k} (eps 1e-6, affine) and {@code to_out.0} for
 * the tokens {@code [text; video]}; RoPE, when given, rotates the video rows of q and k after their norms.
 *
 * <p>Queries are independent rows of the softmax: when a cache reuses one stream's output, only the other
 * stream's queries are computed, over the keys and values of both.
 */
final class CogVideoXAttention extends Module {
    private final int heads;
    private final int layer;
    private final AffineLayerNorm normQ;
    private final AffineLayerNorm normK;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    private final LinearImpl toOut;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module toOutList;

    /** Both streams' outputs after {@code to_out.0}; either may be null when not asked for. */
    record Output(Tensor video, Tensor text) {
    }

    CogVideoXAttention(CogVideoXConfig c, int layer) {
        this.heads = c.numHeads();
        this.layer = layer;
        long d = c.innerDim();
        normQ = register_module("norm_q", new AffineLayerNorm(c.headDim(), CogVideoXConfig.QK_EPS));
        normK = register_module("norm_k", new AffineLayerNorm(c.headDim(), CogVideoXConfig.QK_EPS));
        toQ = register_module("to_q", Linears.of(d, d, c.attentionBias()));
        toK = register_module("to_k", Linears.of(d, d, c.attentionBias()));
        toV = register_module("to_v", Linears.of(d, d, c.attentionBias()));
        toOutList = register_module("to_out", new Module());
        toOut = toOutList.register_module("0", Linears.of(d, d, true));
    }

    /**
     * The joint attention.
     *
     * @param x     the modulated video tokens {@code [N, S, D]}
     * @param ctx   the modulated text tokens {@code [N, T, D]}
     * @param rope  the video rows' rotary tables, or null
     * @param video whether the video rows' output is wanted
     * @param text  whether the text rows' output is wanted
     */
    Output forward(Tensor x, Tensor ctx, CogVideoXPositions.Rope rope, boolean video, boolean text, Step step,
            ActivationProbe probe) {
        long t = ctx.size(1);
        long s = x.size(1);
        Tensor all = torch.cat(new TensorVector(ctx, x), 1);
        Tensor k = headNorm(normK, toK.forward(all));
        Tensor v = toV.forward(all);
        Tensor kText = k.narrow(1, 0, t);
        Tensor kVideo = k.narrow(1, t, s);
        Probes.observe(probe, step, Site.of(layer, SiteKind.K), kVideo);
        Probes.observe(probe, step, Site.of(layer, SiteKind.V), v.narrow(1, t, s));
        Probes.observe(probe, step, new Site(layer, SiteKind.K, TokenStream.TEXT), kText);
        Probes.observe(probe, step, new Site(layer, SiteKind.V, TokenStream.TEXT), v.narrow(1, 0, t));
        if (rope != null) {
            k = torch.cat(new TensorVector(kText, CogVideoXPositions.apply(kVideo, rope, heads)), 1);
        }
        Tensor queryRows = video && text ? all : video ? x : ctx;
        Tensor q = headNorm(normQ, toQ.forward(queryRows));
        if (rope != null && video) {
            q = text ? torch.cat(new TensorVector(q.narrow(1, 0, t),
                    CogVideoXPositions.apply(q.narrow(1, t, s), rope, heads)), 1)
                    : CogVideoXPositions.apply(q, rope, heads);
        }
        Tensor out = toOut.forward(Attention.sdpa(q, k, v, heads, null));
        Tensor a = video ? (text ? out.narrow(1, t, s) : out) : null;
        Tensor ac = text ? (video ? out.narrow(1, 0, t) : out) : null;
        if (a != null) {
            Probes.observe(probe, step, Site.of(layer, SiteKind.ATTN_OUT), a);
        }
        if (ac != null) {
            Probes.observe(probe, step, new Site(layer, SiteKind.ATTN_OUT, TokenStream.TEXT), ac);
        }
        return new Output(a, ac);
    }

    /** The per-head LayerNorm of merged heads {@code [N, S, H*D]}. */
    private Tensor headNorm(AffineLayerNorm norm, Tensor t) {
        long n = t.size(0);
        long s = t.size(1);
        return norm.forward(t.view(n, s, heads, t.size(2) / heads)).reshape(n, s, t.size(2));
    }
}
