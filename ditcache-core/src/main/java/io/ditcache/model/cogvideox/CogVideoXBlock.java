package io.ditcache.model.cogvideox;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.FeedForward;
import io.ditcache.model.layers.Probes;
import java.util.EnumMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code CogVideoXBlock}: {@code norm1} (a {@code CogVideoXLayerNormZero} for both streams), the joint
 * attention {@code attn1} over {@code [text; video]}, gated residuals, {@code norm2}, and ONE feed-forward
 * {@code ff} over {@code [text; video]}, its rows split back to the streams with their own gates.
 *
 * <p>Sites: video K (after {@code norm_k}, before RoPE), V, ATTN_OUT (after {@code to_out.0}, before the gate),
 * MLP_OUT, BLOCK_OUT, BLOCK_RESIDUAL; the same for the text rows as {@link TokenStream#TEXT}; block 0's
 * MODULATED_INPUT (the video tokens after {@code norm1}).
 */
final class CogVideoXBlock extends Module {
    private final int layer;
    private final CogVideoXNormZero norm1;
    private final CogVideoXAttention attn1;
    private final CogVideoXNormZero norm2;
    private final FeedForward ff;

    CogVideoXBlock(CogVideoXConfig c, int layer) {
        this.layer = layer;
        long d = c.innerDim();
        norm1 = register_module("norm1", new CogVideoXNormZero(c.timeEmbedDim(), d, c.normEps()));
        attn1 = register_module("attn1", new CogVideoXAttention(c, layer));
        norm2 = register_module("norm2", new CogVideoXNormZero(c.timeEmbedDim(), d, c.normEps()));
        ff = register_module("ff", new FeedForward(d, CogVideoXConfig.FF_MULT * d, d, "gelu-approximate"));
    }

    int layer() {
        return layer;
    }

    /**
     * This block as the cache runtime runs it: for a group of rows, with their embeddings selected from
     * {@code temb} ({@code [N, E]}), the shared rotary tables (or null), and the parts it is given.
     */
    BlockCall cacheCall(Tensor temb, CogVideoXPositions.Rope rope, Step step) {
        return BlockCall.of((rows, input, reused) -> {
            Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
            Streams out = forward(input.image(), input.context(), rows.select(temb), rope, step,
                    ActivationProbe.NONE, reused, parts);
            return new BlockOutput(out, parts);
        }, (rows, input) -> {
            Tensor t = rows.select(temb);
            return norm1.chunks(t).video(norm1, input.image());
        });
    }

    /**
     * The block.
     *
     * @param x      video tokens {@code [N, S, D]}
     * @param c      text tokens {@code [N, T, D]}
     * @param temb   the timestep embedding {@code [N, E]}
     * @param rope   the video rows' rotary tables, or null
     * @param reused parts to take as given (before their gates) instead of computing them
     * @param parts  if not null, receives every part's output (computed or given)
     */
    Streams forward(Tensor x, Tensor c, Tensor temb, CogVideoXPositions.Rope rope, Step step, ActivationProbe probe,
            Map<BlockPart, Tensor> reused, Map<BlockPart, Tensor> parts) {
        CogVideoXNormZero.Chunks m1 = norm1.chunks(temb);
        Tensor nx = m1.video(norm1, x);
        Tensor nc = m1.text(norm1, c);
        if (layer == 0) {
            Probes.observe(probe, step, Site.of(0, SiteKind.MODULATED_INPUT), nx);
        }
        Tensor a = reused.get(BlockPart.SELF_ATTENTION);
        Tensor ac = reused.get(BlockPart.CONTEXT_ATTENTION);
        if (a == null || ac == null) {
            CogVideoXAttention.Output o = attn1.forward(nx, nc, rope, a == null, ac == null, step, probe);
            a = a == null ? o.video() : a;
            ac = ac == null ? o.text() : ac;
        }
        Tensor hx = x.add(m1.gate().mul(a));
        Tensor hc = c.add(m1.encGate().mul(ac));
        CogVideoXNormZero.Chunks m2 = norm2.chunks(temb);
        Tensor f = reused.get(BlockPart.FEED_FORWARD);
        Tensor fc = reused.get(BlockPart.CONTEXT_FEED_FORWARD);
        if (f == null && fc == null) {
            long t = c.size(1);
            Tensor both = ff.forward(torch.cat(new TensorVector(m2.text(norm2, hc), m2.video(norm2, hx)), 1));
            fc = both.narrow(1, 0, t);
            f = both.narrow(1, t, x.size(1));
        } else if (f == null) {
            f = ff.forward(m2.video(norm2, hx));
        } else if (fc == null) {
            fc = ff.forward(m2.text(norm2, hc));
        }
        Probes.observe(probe, step, Site.of(layer, SiteKind.MLP_OUT), f);
        Probes.observe(probe, step, new Site(layer, SiteKind.MLP_OUT, TokenStream.TEXT), fc);
        Tensor out = hx.add(m2.gate().mul(f));
        Tensor cout = hc.add(m2.encGate().mul(fc));
        Probes.observe(probe, step, Site.of(layer, SiteKind.BLOCK_OUT), out);
        Probes.observe(probe, step, new Site(layer, SiteKind.BLOCK_OUT, TokenStream.TEXT), cout);
        Site residual = Site.of(layer, SiteKind.BLOCK_RESIDUAL);
        if (probe.wants(residual)) {
            probe.observeResidual(step, residual, out, x);
        }
        Site textResidual = new Site(layer, SiteKind.BLOCK_RESIDUAL, TokenStream.TEXT);
        if (probe.wants(textResidual)) {
            probe.observeResidual(step, textResidual, cout, c);
        }
        if (parts != null) {
            parts.put(BlockPart.SELF_ATTENTION, a);
            parts.put(BlockPart.CONTEXT_ATTENTION, ac);
            parts.put(BlockPart.FEED_FORWARD, f);
            parts.put(BlockPart.CONTEXT_FEED_FORWARD, fc);
        }
        return Streams.joint(out, cout);
    }
}
