package io.ditcache.model.pixart;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.FeedForward;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.Probes;
import io.ditcache.model.layers.ProjectedAttention;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code BasicTransformerBlock} with {@code norm_type="ada_norm_single"}: the block's
 * {@code scale_shift_table} plus the shared timestep modulation gives shift, scale and gate of the self-attention
 * and of the feed-forward; self-attention ({@code attn1}) on the modulated LayerNorm ({@code norm1}, no affine,
 * eps {@code norm_eps}), gated and added; cross-attention ({@code attn2}) to the projected caption on the hidden
 * state as it is (PixArt applies no norm there), added ungated; the feed-forward on the modulated
 * {@code norm2}, gated and added.
 */
final class PixArtBlock extends Module {
    /** Receives the cross-attention's projections and output (tests compare them with diffusers'). */
    interface CrossAttentionObserver {
        /** @param name {@code q}, {@code k}, {@code v} or {@code a} */
        void observe(int layer, String name, Tensor value);
    }

    private final int layer;
    private final int dim;
    private final double normEps;
    private final ProjectedAttention selfAttention;
    private final ProjectedAttention crossAttention;
    private final FeedForward feedForward;
    private final Tensor scaleShiftTable;

    PixArtBlock(PixArtConfig c, int layer) {
        this.layer = layer;
        this.dim = c.innerDim();
        this.normEps = c.normEps();
        register_parameter("scale_shift_table", torch.zeros(6, dim));
        selfAttention = register_module("attn1", new ProjectedAttention(dim, dim, c.numHeads(), c.attentionBias()));
        crossAttention = register_module("attn2", new ProjectedAttention(dim, c.crossAttentionDim(), c.numHeads(),
                c.attentionBias()));
        feedForward = register_module("ff", new FeedForward(dim, 4L * dim, dim, "gelu-approximate"));
        // a handle of our own, sharing storage: register_parameter's reference moves as the table grows
        scaleShiftTable = new Tensor(named_parameters(false).get(0).value());
    }

    int layer() {
        return layer;
    }

    /**
     * This block as the cache runtime runs it, for a group of rows whose timestep modulation {@code t6}
     * ({@code [N, 6 d]}), caption {@code text} ({@code [N, L, d]}, projected) and caption bias (or null) are
     * selected from the whole batch's.
     */
    BlockCall cacheCall(Tensor t6, Tensor text, Tensor bias) {
        return BlockCall.of((rows, input, reused) -> {
            Tensor[] parts = new Tensor[3];
            Tensor out = forward(input.image(), rows.select(t6), rows.select(text),
                    bias == null ? null : rows.select(bias), null, ActivationProbe.NONE, null,
                    reused.get(BlockPart.SELF_ATTENTION), reused.get(BlockPart.CROSS_ATTENTION),
                    reused.get(BlockPart.FEED_FORWARD), parts);
            return new BlockOutput(Streams.of(out), Map.of(BlockPart.SELF_ATTENTION, parts[0],
                    BlockPart.CROSS_ATTENTION, parts[1], BlockPart.FEED_FORWARD, parts[2]));
        }, (rows, input) -> modulatedInput(input.image(), rows.select(t6)));
    }

    /**
     * The block, with optional reuse of its parts' outputs (each before its gate and residual add).
     *
     * @param step        the call, for the probe (may be null when the probe is {@link ActivationProbe#NONE})
     * @param cross       receives the cross-attention's values, or null
     * @param selfAttn    the self-attention output to use instead of computing it, or null
     * @param crossAttn   the cross-attention output to use instead of computing it, or null
     * @param mlp         the feed-forward output to use instead of computing it, or null
     * @param parts       if not null, receives the self-attention, cross-attention and feed-forward outputs at 0,
     *                    1 and 2 (computed or given)
     */
    Tensor forward(Tensor x, Tensor t6, Tensor text, Tensor bias, Step step, ActivationProbe probe,
            CrossAttentionObserver cross, Tensor selfAttn, Tensor crossAttn, Tensor mlp, Tensor[] parts) {
        TensorVector mod = modulation(t6);
        Tensor gateMsa = mod.get(2);
        Tensor shiftMlp = mod.get(3);
        Tensor scaleMlp = mod.get(4);
        Tensor gateMlp = mod.get(5);

        Tensor attn = selfAttn;
        Site modulated = Site.of(0, SiteKind.MODULATED_INPUT);
        if (attn == null || (layer == 0 && probe.wants(modulated))) {
            Tensor h = Norms.modulate(Norms.layerNorm(x, normEps), mod.get(0), mod.get(1));
            if (layer == 0) {
                Probes.observe(probe, step, modulated, h);
            }
            if (attn == null) {
                ProjectedAttention.Result r = selfAttention.forward(h, null, null);
                Probes.observe(probe, step, Site.of(layer, SiteKind.K), r.k());
                Probes.observe(probe, step, Site.of(layer, SiteKind.V), r.v());
                attn = r.out();
                Probes.observe(probe, step, Site.of(layer, SiteKind.ATTN_OUT), attn);
            }
        }
        Tensor hidden = gateMsa.mul(attn).add(x);

        Tensor ca = crossAttn;
        if (ca == null) {
            ProjectedAttention.Result r = crossAttention.forward(hidden, text, bias);
            ca = r.out();
            if (cross != null) {
                cross.observe(layer, "q", r.q());
                cross.observe(layer, "k", r.k());
                cross.observe(layer, "v", r.v());
                cross.observe(layer, "a", ca);
            }
        }
        hidden = ca.add(hidden);

        Tensor ff = mlp != null ? mlp
                : feedForward.forward(Norms.modulate(Norms.layerNorm(hidden, normEps), shiftMlp, scaleMlp));
        Probes.observe(probe, step, Site.of(layer, SiteKind.MLP_OUT), ff);
        Tensor out = gateMlp.mul(ff).add(hidden);
        Probes.blockOutput(probe, step, layer, x, out);
        if (parts != null) {
            parts[0] = attn;
            parts[1] = ca;
            parts[2] = ff;
        }
        return out;
    }

    /** The normalised, timestep-modulated input of the self-attention (TeaCache's signal at block 0). */
    Tensor modulatedInput(Tensor x, Tensor t6) {
        TensorVector mod = modulation(t6);
        return Norms.modulate(Norms.layerNorm(x, normEps), mod.get(0), mod.get(1));
    }

    /** {@code scale_shift_table[None] + t6.reshape(N, 6, d)}, chunked: six {@code [N, 1, d]} vectors. */
    private TensorVector modulation(Tensor t6) {
        return scaleShiftTable.unsqueeze(0).add(t6.reshape(t6.size(0), 6, dim)).chunk(6, 1);
    }
}
