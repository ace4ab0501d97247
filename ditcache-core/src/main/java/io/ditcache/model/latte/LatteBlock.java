package io.ditcache.model.latte;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.internal.Tensors;
import io.ditcache.model.layers.FeedForward;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.Probes;
import io.ditcache.model.layers.ProjectedAttention;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code BasicTransformerBlock} with {@code norm_type="ada_norm_single"} as Latte uses it, spatial or
 * temporal: the block's {@code scale_shift_table} plus the shared timestep modulation gives shift, scale and gate of
 * the self-attention and the feed-forward; self-attention ({@code attn1}) on the modulated LayerNorm, gated and
 * added; in spatial blocks only, cross-attention ({@code attn2}) to the projected caption on the hidden state as it
 * is (no norm), added ungated; the feed-forward on the modulated {@code norm2}, gated and added.
 *
 * <p>The block takes and returns one sample per row, {@code [B, G*S, D]}: {@code G} groups of {@code S} tokens
 * that attend to each other. A spatial block has {@code G = F} frames of {@code S = N} patches (diffusers' batch
 * {@code [B*F, N, D]}), a temporal block {@code G = N} patch positions of {@code S = F} frames ({@code [B*N, F, D]});
 * the same memory, so every reported activation and reused part is one row per sample, and its mean over all
 * elements is diffusers'.
 */
final class LatteBlock extends Module {
    /** Receives the cross-attention's projections and output (tests compare them with diffusers'). */
    interface CrossAttentionObserver {
        /** @param name {@code q}, {@code k}, {@code v} or {@code a}, each in diffusers' layout {@code [B*F, *, D]} */
        void observe(int layer, String name, Tensor value);
    }

    private final int layer;
    private final int dim;
    private final double normEps;
    private final ProjectedAttention selfAttention;
    private final ProjectedAttention crossAttention;
    private final FeedForward feedForward;
    private final Tensor scaleShiftTable;

    /**
     * @param layer   the block's index in execution order ({@code 2i} spatial, {@code 2i + 1} temporal)
     * @param spatial whether it is a spatial block (with cross-attention)
     */
    LatteBlock(LatteConfig c, int layer, boolean spatial) {
        this.layer = layer;
        this.dim = c.innerDim();
        this.normEps = c.normEps();
        register_parameter("scale_shift_table", torch.zeros(6, dim));
        selfAttention = register_module("attn1", new ProjectedAttention(dim, dim, c.numHeads(), c.attentionBias()));
        crossAttention = spatial ? register_module("attn2", new ProjectedAttention(dim, c.crossAttentionDim(),
                c.numHeads(), c.attentionBias())) : null;
        feedForward = register_module("ff", new FeedForward(dim, 4L * dim, dim, c.activation()));
        // a handle of our own, sharing storage: register_parameter's reference moves as the table grows
        scaleShiftTable = new Tensor(named_parameters(false).get(0).value());
    }

    int layer() {
        return layer;
    }

    boolean spatial() {
        return crossAttention != null;
    }

    /**
     * This block as the cache runtime runs it, for a group of rows whose modulation {@code t6} ({@code [B, 6 d]}),
     * caption {@code text} ({@code [B, L, d]}, projected; null for a temporal block) and caption bias (or null) are
     * selected from the whole batch's.
     */
    BlockCall cacheCall(Tensor t6, Tensor text, Tensor bias, long groups) {
        return BlockCall.of((rows, input, reused) -> {
            Tensor[] parts = new Tensor[3];
            Tensor out = forward(input.image(), groups, rows.select(t6), text == null ? null : rows.select(text),
                    bias == null ? null : rows.select(bias), null, ActivationProbe.NONE, null,
                    reused.get(BlockPart.SELF_ATTENTION), reused.get(BlockPart.CROSS_ATTENTION),
                    reused.get(BlockPart.FEED_FORWARD), parts);
            Map<BlockPart, Tensor> computed = new HashMap<>();
            computed.put(BlockPart.SELF_ATTENTION, parts[0]);
            if (spatial()) {
                computed.put(BlockPart.CROSS_ATTENTION, parts[1]);
            }
            computed.put(BlockPart.FEED_FORWARD, parts[2]);
            return new BlockOutput(Streams.of(out), computed);
        }, (rows, input) -> modulatedInput(input.image(), rows.select(t6)));
    }

    /**
     * The block, with optional reuse of its parts' outputs (each before its gate and residual add, one row per
     * sample).
     *
     * @param x         {@code [B, G*S, D]}
     * @param groups    {@code G}: frames (spatial) or patch positions (temporal)
     * @param t6        {@code [B, 6 D]}, shared by every group of a sample
     * @param text      {@code [B, L, D]} projected caption (spatial only)
     * @param bias      additive caption bias {@code [B, 1, 1, L]}, or null
     * @param step      the call, for the probe (may be null when the probe is {@link ActivationProbe#NONE})
     * @param cross     receives the cross-attention's values, or null
     * @param selfAttn  the self-attention output to use instead of computing it, or null
     * @param crossAttn the cross-attention output to use instead of computing it, or null
     * @param mlp       the feed-forward output to use instead of computing it, or null
     * @param parts     if not null, receives the self-attention, cross-attention (spatial) and feed-forward outputs
     *                  at 0, 1 and 2 (computed or given), each {@code [B, G*S, D]}
     */
    Tensor forward(Tensor x, long groups, Tensor t6, Tensor text, Tensor bias, Step step, ActivationProbe probe,
            CrossAttentionObserver cross, Tensor selfAttn, Tensor crossAttn, Tensor mlp, Tensor[] parts) {
        long b = x.size(0);
        long s = x.size(1) / groups;
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
                ProjectedAttention.Result r = selfAttention.forward(h.reshape(b * groups, s, dim), null, null);
                Probes.observe(probe, step, Site.of(layer, SiteKind.K), perSample(r.k(), b));
                Probes.observe(probe, step, Site.of(layer, SiteKind.V), perSample(r.v(), b));
                attn = perSample(r.out(), b);
                Probes.observe(probe, step, Site.of(layer, SiteKind.ATTN_OUT), attn);
            }
        }
        Tensor hidden = gateMsa.mul(attn).add(x);

        Tensor ca = null;
        if (spatial()) {
            ca = crossAttn;
            if (ca == null) {
                Tensor context = perGroup(text, groups);
                Tensor groupBias = bias == null ? null : perGroup(bias, groups);
                ProjectedAttention.Result r = crossAttention.forward(hidden.reshape(b * groups, s, dim), context,
                        groupBias);
                ca = perSample(r.out(), b);
                if (cross != null) {
                    cross.observe(layer, "q", r.q());
                    cross.observe(layer, "k", r.k());
                    cross.observe(layer, "v", r.v());
                    cross.observe(layer, "a", r.out());
                }
            }
            hidden = ca.add(hidden);
        }

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

    /** {@code scale_shift_table[None] + t6.reshape(B, 6, d)}, chunked: six {@code [B, 1, d]} vectors. */
    private TensorVector modulation(Tensor t6) {
        return scaleShiftTable.unsqueeze(0).add(t6.reshape(t6.size(0), 6, dim)).chunk(6, 1);
    }

    /** {@code [B*G, S, D]} to one row per sample, {@code [B, G*S, D]} (the same memory). */
    private Tensor perSample(Tensor t, long b) {
        return t.reshape(b, -1, t.size(2));
    }

    /** {@code [B, ...]} repeated for each of a sample's groups: {@code [B*G, ...]} (diffusers' repeat_interleave). */
    private static Tensor perGroup(Tensor t, long groups) {
        long b = t.size(0);
        long[] shape = Tensors.shape(t);
        long[] expanded = new long[shape.length + 1];
        expanded[0] = b;
        expanded[1] = groups;
        System.arraycopy(shape, 1, expanded, 2, shape.length - 1);
        long[] merged = shape.clone();
        merged[0] = b * groups;
        return t.unsqueeze(1).expand(expanded).reshape(merged);
    }
}
