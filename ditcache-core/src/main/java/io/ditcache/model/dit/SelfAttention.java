package io.ditcache.model.dit;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** diffusers' {@code Attention} with {@code AttnProcessor2_0}: q/k/v projections, SDPA, {@code to_out.0}. */
final class SelfAttention extends Module {
    private final int heads;
    private final int headDim;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    private final LinearImpl toOut;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module out;

    SelfAttention(DiTConfig c) {
        int d = c.innerDim();
        heads = c.numHeads();
        headDim = c.headDim();
        toQ = register_module("to_q", Linears.of(d, d, c.attentionBias()));
        toK = register_module("to_k", Linears.of(d, d, c.attentionBias()));
        toV = register_module("to_v", Linears.of(d, d, c.attentionBias()));
        out = register_module("to_out", new Module());
        toOut = out.register_module("0", Linears.of(d, d, true));
    }

    /** {@code [N, S, D]} to {@code [N, S, D]}; reports K, V and the attention output to the probe. */
    Tensor forward(Tensor x, int layer, Step step, ActivationProbe probe) {
        long n = x.size(0);
        long s = x.size(1);
        Tensor q = toQ.forward(x);
        Tensor k = toK.forward(x);
        Tensor v = toV.forward(x);
        observe(probe, step, layer, SiteKind.K, k);
        observe(probe, step, layer, SiteKind.V, v);
        Tensor o = torch.scaled_dot_product_attention(split(q, n, s), split(k, n, s), split(v, n, s));
        Tensor a = toOut.forward(o.transpose(1, 2).reshape(n, s, (long) heads * headDim));
        observe(probe, step, layer, SiteKind.ATTN_OUT, a);
        return a;
    }

    private Tensor split(Tensor t, long n, long s) {
        return t.view(n, s, heads, headDim).transpose(1, 2);
    }

    static void observe(ActivationProbe probe, Step step, int layer, SiteKind kind, Tensor t) {
        Site site = Site.of(layer, kind);
        if (probe.wants(site)) {
            probe.observe(step, site, t);
        }
    }
}
