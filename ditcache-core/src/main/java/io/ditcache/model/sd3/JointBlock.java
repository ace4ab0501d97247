package io.ditcache.model.sd3;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.AdaLayerNormContinuous;
import io.ditcache.model.layers.AdaLayerNormZero;
import io.ditcache.model.layers.FeedForward;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.Probes;
import java.util.EnumMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code JointTransformerBlock} (MM-DiT): adaLN-Zero on the image ({@code norm1}) and context
 * ({@code norm1_context}) streams, the joint attention over {@code [image; context]}, SD3.5's image-only
 * {@code attn2} in dual-attention blocks, and a feed-forward per stream. The last block is
 * {@code context_pre_only}: its context stream is normalised by an {@code AdaLayerNormContinuous}, feeds the
 * attention's keys and values, and ends there (no {@code to_add_out}, no context feed-forward, no context output).
 */
final class JointBlock extends Module {
    private static final double NORM2_EPS = 1e-6;
    private final int layer;
    private final boolean last;
    private final boolean dual;
    private final ImageModulation norm1;
    private final AdaLayerNormZero norm1Context;
    private final AdaLayerNormContinuous norm1ContextLast;
    private final SD3Attention attn;
    private final SD3Attention attn2;
    private final FeedForward ff;
    private final FeedForward ffContext;

    JointBlock(SD3Config c, int layer) {
        this.layer = layer;
        this.last = c.contextPreOnly(layer);
        this.dual = c.dual(layer);
        long d = c.innerDim();
        norm1 = register_module("norm1", new ImageModulation(d, dual));
        norm1Context = last ? null : register_module("norm1_context", new AdaLayerNormZero(d));
        norm1ContextLast = last ? register_module("norm1_context", new AdaLayerNormContinuous(d, d)) : null;
        attn = register_module("attn", new SD3Attention(c, layer, true, !last));
        attn2 = dual ? register_module("attn2", new SD3Attention(c, layer, false, false)) : null;
        ff = register_module("ff", new FeedForward(d, SD3Config.FF_MULT * d, d, "gelu-approximate"));
        ffContext = last ? null
                : register_module("ff_context", new FeedForward(d, SD3Config.FF_MULT * d, d, "gelu-approximate"));
    }

    int layer() {
        return layer;
    }

    /**
     * This block as the cache runtime runs it: for a group of rows, with their embeddings selected from
     * {@code temb} ({@code [N, D]}), and the parts it is given.
     */
    BlockCall cacheCall(Tensor temb, Step step) {
        return BlockCall.of((rows, input, reused) -> {
            Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
            Streams out = forward(input.image(), input.context(), rows.select(temb), step, ActivationProbe.NONE,
                    reused, parts);
            return new BlockOutput(out, parts);
        }, (rows, input) -> norm1.modulatedInput(input.image(), rows.select(temb)));
    }

    /**
     * The block.
     *
     * @param x      image tokens {@code [N, S, D]}
     * @param c      context tokens {@code [N, T, D]}
     * @param temb   the time and pooled-text embedding {@code [N, D]}
     * @param reused parts to take as given (before their gates) instead of computing them; in a dual block
     *               {@link BlockPart#SELF_ATTENTION} is both image attentions, {@code [N, 2S, D]} (joint then
     *               {@code attn2})
     * @param parts  if not null, receives every part's output (computed or given)
     * @return the output streams; the context is null in the last block
     */
    Streams forward(Tensor x, Tensor c, Tensor temb, Step step, ActivationProbe probe, Map<BlockPart, Tensor> reused,
            Map<BlockPart, Tensor> parts) {
        ImageModulation.Modulation m = norm1.forward(x, temb);
        if (layer == 0) {
            Probes.observe(probe, step, Site.of(0, SiteKind.MODULATED_INPUT), m.x());
        }
        Tensor selfGiven = reused.get(BlockPart.SELF_ATTENTION);
        Tensor ctxGiven = last ? null : reused.get(BlockPart.CONTEXT_ATTENTION);
        boolean image = selfGiven == null;
        // the last block's context half is used by nothing but a probe that asks for it
        boolean context = last ? probe.wants(new Site(layer, SiteKind.ATTN_OUT, TokenStream.TEXT))
                : ctxGiven == null;
        AdaLayerNormZero.Modulation cm = last ? null : norm1Context.forward(c, temb);
        SD3Attention.Output o = null;
        if (image || context) {
            Tensor ch = last ? norm1ContextLast.forward(c, temb) : cm.x();
            o = attn.forward(m.x(), ch, image, context, step, probe);
        }
        long s = x.size(1);
        Tensor a;
        Tensor a2 = null;
        if (image) {
            a = o.image();
            a2 = dual ? attn2.forward(m.x2()) : null;
        } else {
            a = dual ? selfGiven.narrow(1, 0, s) : selfGiven;
            a2 = dual ? selfGiven.narrow(1, s, s) : null;
        }
        Tensor hidden = x.add(m.gateMsa().mul(a));
        if (dual) {
            hidden = hidden.add(m.gateMsa2().mul(a2));
        }
        Tensor f = reused.get(BlockPart.FEED_FORWARD);
        if (f == null) {
            f = ff.forward(Norms.modulate(Norms.layerNorm(hidden, NORM2_EPS), m.shiftMlp(), m.scaleMlp()));
        }
        Probes.observe(probe, step, Site.of(layer, SiteKind.MLP_OUT), f);
        Tensor out = hidden.add(m.gateMlp().mul(f));
        Probes.blockOutput(probe, step, layer, x, out);
        if (parts != null) {
            parts.put(BlockPart.SELF_ATTENTION, image ? (dual ? torch.cat(new TensorVector(a, a2), 1) : a)
                    : selfGiven);
            parts.put(BlockPart.FEED_FORWARD, f);
        }
        if (last) {
            return new Streams(out, null);
        }
        Tensor ac = context ? o.context() : ctxGiven;
        Tensor ch = c.add(cm.gateMsa().mul(ac));
        Tensor cf = reused.get(BlockPart.CONTEXT_FEED_FORWARD);
        if (cf == null) {
            cf = ffContext.forward(Norms.modulate(Norms.layerNorm(ch, NORM2_EPS), cm.shiftMlp(), cm.scaleMlp()));
        }
        Probes.observe(probe, step, new Site(layer, SiteKind.MLP_OUT, TokenStream.TEXT), cf);
        Tensor cout = ch.add(cm.gateMlp().mul(cf));
        Probes.observe(probe, step, new Site(layer, SiteKind.BLOCK_OUT, TokenStream.TEXT), cout);
        Site contextResidual = new Site(layer, SiteKind.BLOCK_RESIDUAL, TokenStream.TEXT);
        if (probe.wants(contextResidual)) {
            probe.observeResidual(step, contextResidual, cout, c);
        }
        if (parts != null) {
            parts.put(BlockPart.CONTEXT_ATTENTION, ac);
            parts.put(BlockPart.CONTEXT_FEED_FORWARD, cf);
        }
        return Streams.joint(out, cout);
    }
}
