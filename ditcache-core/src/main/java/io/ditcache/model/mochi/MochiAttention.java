package io.ditcache.model.mochi;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Probes;
import io.ditcache.model.layers.RmsNorm;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code MochiAttention} run as {@code MochiAttnProcessor2_0}: video q/k/v ({@code to_q/k/v}, no bias),
 * text q/k/v ({@code add_q/k/v_proj} from the text width, no bias), per-head RMS norms (eps 1e-5, weight) of the
 * four queries and keys, the learned rotary embedding on the video queries and keys, then for each sample one
 * softmax over {@code [video; the text tokens its mask keeps]}. The output rows are laid out as diffusers pads
 * them: video rows, then the kept text rows in order, then zero rows up to the text length, so padded text rows
 * leave {@code to_add_out} as its bias. {@code to_out.0} projects the video rows; {@code to_add_out} (to the text
 * width, absent in the last, {@code context_pre_only} block) the text rows.
 *
 * <p>Queries are independent rows of the softmax: when a cache reuses one stream's output, only the other
 * stream's queries are computed, over the keys and values of both.
 */
final class MochiAttention extends Module {
    private static final double EPS = 1e-5;
    private final int heads;
    private final int layer;
    private final RmsNorm normQ;
    private final RmsNorm normK;
    private final RmsNorm normAddedQ;
    private final RmsNorm normAddedK;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    private final LinearImpl addK;
    private final LinearImpl addV;
    private final LinearImpl addQ;
    private final LinearImpl toOut;
    private final LinearImpl toAddOut;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module toOutList;

    /** Both streams' outputs; either may be null when not asked for. */
    record Output(Tensor image, Tensor context) {
    }

    MochiAttention(MochiConfig c, int layer) {
        this.heads = c.numHeads();
        this.layer = layer;
        long d = c.innerDim();
        long p = c.pooledProjectionDim();
        // registration order is diffusers': the four norms, to_q/k/v, add_k/v/q_proj, to_out, to_add_out
        normQ = register_module("norm_q", new RmsNorm(c.headDim(), EPS));
        normK = register_module("norm_k", new RmsNorm(c.headDim(), EPS));
        normAddedQ = register_module("norm_added_q", new RmsNorm(c.headDim(), EPS));
        normAddedK = register_module("norm_added_k", new RmsNorm(c.headDim(), EPS));
        toQ = register_module("to_q", Linears.of(d, d, false));
        toK = register_module("to_k", Linears.of(d, d, false));
        toV = register_module("to_v", Linears.of(d, d, false));
        addK = register_module("add_k_proj", Linears.of(p, d, false));
        addV = register_module("add_v_proj", Linears.of(p, d, false));
        addQ = register_module("add_q_proj", Linears.of(p, d, false));
        toOutList = register_module("to_out", new Module());
        toOut = toOutList.register_module("0", Linears.of(d, d, true));
        toAddOut = c.contextPreOnly(layer) ? null : register_module("to_add_out", Linears.of(d, p, true));
    }

    /**
     * The joint attention.
     *
     * @param x       the modulated video tokens {@code [N, S, D]}
     * @param ctx     the modulated text tokens {@code [N, T, P]}
     * @param mask    {@code [N, T]} bool, true = a token to attend to; null when every token is
     * @param rope    the rotary table of the S video tokens
     * @param image   whether the video stream's output is wanted
     * @param context whether the text stream's output is wanted
     */
    Output forward(Tensor x, Tensor ctx, Tensor mask, MochiRope.Table rope, boolean image, boolean context,
            Step step, ActivationProbe probe) {
        long n = x.size(0);
        long s = x.size(1);
        long t = ctx.size(1);
        Tensor k = headNorm(normK, toK.forward(x));
        Tensor v = toV.forward(x);
        Probes.observe(probe, step, Site.of(layer, SiteKind.K), k);
        Probes.observe(probe, step, Site.of(layer, SiteKind.V), v);
        Tensor ck = headNorm(normAddedK, addK.forward(ctx));
        Tensor cv = addV.forward(ctx);
        Probes.observe(probe, step, new Site(layer, SiteKind.K, TokenStream.TEXT), ck);
        Probes.observe(probe, step, new Site(layer, SiteKind.V, TokenStream.TEXT), cv);
        Tensor keys = torch.cat(new TensorVector(heads(rotate(k, rope)), heads(ck)), 2);
        Tensor values = torch.cat(new TensorVector(heads(v), heads(cv)), 2);
        Tensor q = image ? heads(rotate(headNorm(normQ, toQ.forward(x)), rope)) : null;
        Tensor cq = context ? heads(headNorm(normAddedQ, addQ.forward(ctx))) : null;
        Tensor imageOut = null;
        Tensor textOut = null;
        if (mask == null) {
            Tensor queries = q == null ? cq : cq == null ? q : torch.cat(new TensorVector(q, cq), 2);
            Tensor out = Attention.merge(Attention.sdpaHeads(queries, keys, values, null));
            imageOut = image ? out.narrow(1, 0, s) : null;
            textOut = context ? out.narrow(1, image ? s : 0, t) : null;
        } else {
            List<Tensor> images = new ArrayList<>();
            List<Tensor> texts = new ArrayList<>();
            for (long b = 0; b < n; b++) {
                Tensor valid = torch.nonzero(mask.select(0, b)).flatten();
                long kept = valid.size(0);
                Tensor keysB = torch.cat(new TensorVector(keys.narrow(0, b, 1).narrow(2, 0, s),
                        keys.narrow(0, b, 1).narrow(2, s, t).index_select(2, valid)), 2);
                Tensor valuesB = torch.cat(new TensorVector(values.narrow(0, b, 1).narrow(2, 0, s),
                        values.narrow(0, b, 1).narrow(2, s, t).index_select(2, valid)), 2);
                Tensor qb = q == null ? null : q.narrow(0, b, 1);
                Tensor cqb = cq == null ? null : cq.narrow(0, b, 1).index_select(2, valid);
                Tensor queries = qb == null ? cqb : cqb == null ? qb : torch.cat(new TensorVector(qb, cqb), 2);
                Tensor out = Attention.merge(Attention.sdpaHeads(queries, keysB, valuesB, null));
                if (image) {
                    images.add(out.narrow(1, 0, s));
                }
                if (context) {
                    Tensor rows = out.narrow(1, image ? s : 0, kept);
                    texts.add(torch.constant_pad_nd(rows, new long[] {0, 0, 0, t - kept}));
                }
            }
            imageOut = image ? torch.cat(new TensorVector(images.toArray(new Tensor[0])), 0) : null;
            textOut = context ? torch.cat(new TensorVector(texts.toArray(new Tensor[0])), 0) : null;
        }
        Tensor a = null;
        Tensor ac = null;
        if (image) {
            a = toOut.forward(imageOut);
            Probes.observe(probe, step, Site.of(layer, SiteKind.ATTN_OUT), a);
        }
        if (context) {
            ac = toAddOut == null ? textOut : toAddOut.forward(textOut);
            Probes.observe(probe, step, new Site(layer, SiteKind.ATTN_OUT, TokenStream.TEXT), ac);
        }
        return new Output(a, ac);
    }

    /** {@code [N, S, H*D]} to {@code [N, S, H, D]}. */
    private Tensor unflatten(Tensor t) {
        return t.view(t.size(0), t.size(1), heads, t.size(2) / heads);
    }

    /** {@code [N, S, H*D]} to {@code [N, H, S, D]}. */
    private Tensor heads(Tensor t) {
        return Attention.split(t, heads);
    }

    private Tensor rotate(Tensor t, MochiRope.Table rope) {
        return MochiRope.apply(unflatten(t), rope).reshape(t.size(0), t.size(1), t.size(2));
    }

    /** The per-head RMS norm of merged heads {@code [N, S, H*D]}. */
    private Tensor headNorm(RmsNorm norm, Tensor t) {
        return norm.forward(unflatten(t)).reshape(t.size(0), t.size(1), t.size(2));
    }
}
