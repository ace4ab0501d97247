package io.ditcache.model.dit;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code BasicTransformerBlock} with {@code norm_type="ada_norm_zero"}: its own timestep+label
 * embedding ({@code norm1.emb}) modulates a LayerNorm (eps 1e-6) before attention and the feed-forward
 * LayerNorm ({@code norm3}, eps {@code norm_eps}); both branches are gated and added back.
 */
final class DiTBlock extends Module {
    private static final double NORM1_EPS = 1e-6;
    private final int layer;
    private final int dim;
    private final double normEps;
    private final TimestepLabelEmbedding embedding;
    private final LinearImpl modulation;
    private final SelfAttention attention;
    private final FeedForward feedForward;
    // Grouping modules made here must stay reachable from Java: libtorch calls back into them (eval(), train()),
    // and one the garbage collector took makes that call fail with a NullPointerException.
    private final Module norm1;

    DiTBlock(DiTConfig c, int layer) {
        this.layer = layer;
        this.dim = c.innerDim();
        this.normEps = c.normEps();
        norm1 = register_module("norm1", new Module());
        embedding = norm1.register_module("emb", new TimestepLabelEmbedding(c));
        modulation = norm1.register_module("linear", Linears.of(dim, 6L * dim, true));
        attention = register_module("attn1", new SelfAttention(c));
        feedForward = register_module("ff", new FeedForward(c));
    }

    TimestepLabelEmbedding embedding() {
        return embedding;
    }

    Tensor forward(Tensor x, Tensor timesteps, Tensor labels, Step step, ActivationProbe probe) {
        TensorVector mod = modulation.forward(torch.silu(embedding.forward(timesteps, labels))).chunk(6, 1);
        Tensor shiftMsa = mod.get(0).unsqueeze(1);
        Tensor scaleMsa = mod.get(1).unsqueeze(1);
        Tensor gateMsa = mod.get(2).unsqueeze(1);
        Tensor shiftMlp = mod.get(3).unsqueeze(1);
        Tensor scaleMlp = mod.get(4).unsqueeze(1);
        Tensor gateMlp = mod.get(5).unsqueeze(1);

        Tensor h = modulate(layerNorm(x, NORM1_EPS), shiftMsa, scaleMsa);
        if (layer == 0) {
            SelfAttention.observe(probe, step, layer, SiteKind.MODULATED_INPUT, h);
        }
        Tensor hidden = gateMsa.mul(attention.forward(h, layer, step, probe)).add(x);
        Tensor ff = feedForward.forward(modulate(layerNorm(hidden, normEps), shiftMlp, scaleMlp));
        SelfAttention.observe(probe, step, layer, SiteKind.MLP_OUT, ff);
        Tensor out = gateMlp.mul(ff).add(hidden);
        SelfAttention.observe(probe, step, layer, SiteKind.BLOCK_OUT, out);
        Site residual = Site.of(layer, SiteKind.BLOCK_RESIDUAL);
        if (probe.wants(residual)) {
            probe.observe(step, residual, out.sub(x));
        }
        return out;
    }

    private Tensor layerNorm(Tensor x, double eps) {
        return torch.layer_norm(x, new long[] {dim}, new TensorOptional(), new TensorOptional(), eps, false);
    }

    static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        return x.mul(scale.add(new Scalar(1.0))).add(shift);
    }
}
