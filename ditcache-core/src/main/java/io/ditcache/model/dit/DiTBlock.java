package io.ditcache.model.dit;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.FeedForward;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Probes;
import java.util.Map;
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
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module norm1;

    DiTBlock(DiTConfig c, int layer) {
        this.layer = layer;
        this.dim = c.innerDim();
        this.normEps = c.normEps();
        norm1 = register_module("norm1", new Module());
        embedding = norm1.register_module("emb", new TimestepLabelEmbedding(c));
        modulation = norm1.register_module("linear", Linears.of(dim, 6L * dim, true));
        attention = register_module("attn1", new SelfAttention(c));
        feedForward = register_module("ff", new FeedForward(c.innerDim(), 4L * c.innerDim(), c.innerDim(), "gelu-approximate"));
    }

    int layer() {
        return layer;
    }

    /**
     * This block as the cache runtime runs it: for a group of rows, with their timesteps and labels selected from
     * {@code timesteps} and {@code labels} ({@code [N]}), and the attention or feed-forward output it is given.
     */
    BlockCall cacheCall(Tensor timesteps, Tensor labels, Step step) {
        return BlockCall.of((rows, input, reused) -> {
            Tensor[] parts = new Tensor[2];
            Tensor out = forward(input.image(), rows.select(timesteps), rows.select(labels), step,
                    ActivationProbe.NONE, reused.get(BlockPart.SELF_ATTENTION), reused.get(BlockPart.FEED_FORWARD),
                    parts);
            return new BlockOutput(Streams.of(out), Map.of(BlockPart.SELF_ATTENTION, parts[0],
                    BlockPart.FEED_FORWARD, parts[1]));
        }, (rows, input) -> modulatedInput(input.image(), rows.select(timesteps), rows.select(labels)));
    }

    TimestepLabelEmbedding embedding() {
        return embedding;
    }

    Tensor forward(Tensor x, Tensor timesteps, Tensor labels, Step step, ActivationProbe probe) {
        return forward(x, timesteps, labels, step, probe, null, null, null);
    }

    /**
     * The block, with optional reuse of its attention or feed-forward output.
     *
     * @param attention  the attention output to use instead of computing it (before the gate), or null
     * @param mlp        the feed-forward output to use instead of computing it (before the gate), or null
     * @param parts      if not null, receives the attention output at [0] and the feed-forward output at [1]
     *                   (computed or given)
     */
    Tensor forward(Tensor x, Tensor timesteps, Tensor labels, Step step, ActivationProbe probe, Tensor attention,
            Tensor mlp, Tensor[] parts) {
        TensorVector mod = modulation.forward(torch.silu(embedding.forward(timesteps, labels))).chunk(6, 1);
        Tensor shiftMsa = mod.get(0).unsqueeze(1);
        Tensor scaleMsa = mod.get(1).unsqueeze(1);
        Tensor gateMsa = mod.get(2).unsqueeze(1);
        Tensor shiftMlp = mod.get(3).unsqueeze(1);
        Tensor scaleMlp = mod.get(4).unsqueeze(1);
        Tensor gateMlp = mod.get(5).unsqueeze(1);

        Tensor attn = attention;
        if (attn == null || (layer == 0 && probe.wants(Site.of(0, SiteKind.MODULATED_INPUT)))) {
            Tensor h = modulate(layerNorm(x, NORM1_EPS), shiftMsa, scaleMsa);
            if (layer == 0) {
                SelfAttention.observe(probe, step, layer, SiteKind.MODULATED_INPUT, h);
            }
            if (attn == null) {
                attn = this.attention.forward(h, layer, step, probe);
            }
        }
        Tensor hidden = gateMsa.mul(attn).add(x);
        Tensor ff = mlp != null ? mlp
                : feedForward.forward(modulate(layerNorm(hidden, normEps), shiftMlp, scaleMlp));
        SelfAttention.observe(probe, step, layer, SiteKind.MLP_OUT, ff);
        Tensor out = gateMlp.mul(ff).add(hidden);
        Probes.blockOutput(probe, step, layer, x, out);
        if (parts != null) {
            parts[0] = attn;
            parts[1] = ff;
        }
        return out;
    }

    /** Block 0's normalised, timestep-modulated input (TeaCache's signal), computed on its own. */
    Tensor modulatedInput(Tensor x, Tensor timesteps, Tensor labels) {
        TensorVector mod = modulation.forward(torch.silu(embedding.forward(timesteps, labels))).chunk(6, 1);
        return modulate(layerNorm(x, NORM1_EPS), mod.get(0).unsqueeze(1), mod.get(1).unsqueeze(1));
    }

    private Tensor layerNorm(Tensor x, double eps) {
        return torch.layer_norm(x, new long[] {dim}, new TensorOptional(), new TensorOptional(), eps, false);
    }

    static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        return x.mul(scale.add(new Scalar(1.0))).add(shift);
    }
}
