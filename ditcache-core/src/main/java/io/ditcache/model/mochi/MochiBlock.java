package io.ditcache.model.mochi;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Probes;
import java.util.EnumMap;
import java.util.Map;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code MochiTransformerBlock}. {@code norm1} ({@code MochiRMSNormZero}): {@code linear(silu(temb))}
 * chunked as (scale_msa, gate_msa, scale_mlp, gate_mlp), the video tokens RMS-normalised (no weight, eps 1e-6) and
 * scaled by {@code 1 + scale_msa} (no shift). {@code norm1_context} does the same for the text stream at its own
 * width, except in the last block ({@code context_pre_only}), where a {@code MochiLayerNormContinuous}
 * ({@code linear_1}, scale only) normalises it and the text stream ends in the attention. Residuals:
 * {@code x + rms(attn) * tanh(gate_msa)}, then {@code x + rms(ff(rms(x) * (1 + scale_mlp))) * tanh(gate_mlp)};
 * the feed-forwards are SwiGLU.
 */
final class MochiBlock extends Module {
    private final int layer;
    private final boolean last;
    private final LinearImpl norm1;
    private final LinearImpl norm1Context;
    private final MochiAttention attn;
    private final SwiGluFeedForward ff;
    private final SwiGluFeedForward ffContext;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module norm1Module;
    private final Module norm1ContextModule;

    MochiBlock(MochiConfig c, int layer) {
        this.layer = layer;
        this.last = c.contextPreOnly(layer);
        long d = c.innerDim();
        long p = c.pooledProjectionDim();
        norm1Module = register_module("norm1", new Module());
        norm1 = norm1Module.register_module("linear", Linears.of(d, 4 * d, true));
        norm1ContextModule = register_module("norm1_context", new Module());
        norm1Context = last ? norm1ContextModule.register_module("linear_1", Linears.of(d, p, true))
                : norm1ContextModule.register_module("linear", Linears.of(d, 4 * p, true));
        attn = register_module("attn1", new MochiAttention(c, layer));
        ff = register_module("ff", new SwiGluFeedForward(d, c.ffInnerDim()));
        ffContext = last ? null : register_module("ff_context", new SwiGluFeedForward(p, c.ffContextInnerDim()));
    }

    int layer() {
        return layer;
    }

    /**
     * This block as the cache runtime runs it: for a group of rows, with their embeddings and masks selected from
     * {@code temb} ({@code [N, D]}) and {@code mask} ({@code [N, T]}), and the parts it is given.
     */
    BlockCall cacheCall(Tensor temb, Tensor mask, MochiRope.Table rope, Step step) {
        return BlockCall.of((rows, input, reused) -> {
            Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
            Streams out = forward(input.image(), input.context(), rows.select(temb),
                    mask == null ? null : rows.select(mask), rope, step,
                    ActivationProbe.NONE, reused, parts);
            return new BlockOutput(out, parts);
        }, (rows, input) -> new Tensor(modulation(input.image(), rows.select(temb)).get(0)));
    }

    /** The normalised, scaled video tokens and the gate / mlp modulation: x, gate_msa, scale_mlp, gate_mlp. */
    private TensorVector modulation(Tensor x, Tensor temb) {
        TensorVector m = norm1.forward(torch.silu(temb)).chunk(4, 1);
        return new TensorVector(MochiNorms.scaled(x, m.get(0)), m.get(1), m.get(2), m.get(3));
    }

    /**
     * The block.
     *
     * @param x      video tokens {@code [N, S, D]}
     * @param c      text tokens {@code [N, T, P]}
     * @param temb   the conditioning vector {@code [N, D]}
     * @param mask   {@code [N, T]} bool, true = attend
     * @param reused parts to take as given (before their norms and gates) instead of computing them
     * @param parts  if not null, receives every part's output (computed or given)
     * @return the output streams; the last block returns its text input unchanged
     */
    Streams forward(Tensor x, Tensor c, Tensor temb, Tensor mask, MochiRope.Table rope, Step step,
            ActivationProbe probe, Map<BlockPart, Tensor> reused, Map<BlockPart, Tensor> parts) {
        TensorVector m = modulation(x, temb);
        if (layer == 0) {
            Probes.observe(probe, step, Site.of(0, SiteKind.MODULATED_INPUT), m.get(0));
        }
        Tensor selfGiven = reused.get(BlockPart.SELF_ATTENTION);
        Tensor ctxGiven = last ? null : reused.get(BlockPart.CONTEXT_ATTENTION);
        boolean image = selfGiven == null;
        // the last block's text half is used by nothing but a probe that asks for it
        boolean context = last ? probe.wants(new Site(layer, SiteKind.ATTN_OUT, TokenStream.TEXT))
                : ctxGiven == null;
        Tensor silu = torch.silu(temb);
        TensorVector cm = last ? null : norm1Context.forward(silu).chunk(4, 1);
        MochiAttention.Output o = null;
        if (image || context) {
            Tensor ch = last ? MochiNorms.scaled(c, norm1Context.forward(silu)) : MochiNorms.scaled(c, cm.get(0));
            o = attn.forward(m.get(0), ch, mask, rope, image, context, step, probe);
        }
        Tensor a = image ? o.image() : selfGiven;
        Tensor hidden = x.add(MochiNorms.gated(a, m.get(1)));
        Tensor f = reused.get(BlockPart.FEED_FORWARD);
        if (f == null) {
            f = ff.forward(MochiNorms.scaled(hidden, m.get(2)));
        }
        Probes.observe(probe, step, Site.of(layer, SiteKind.MLP_OUT), f);
        Tensor out = hidden.add(MochiNorms.gated(f, m.get(3)));
        Probes.blockOutput(probe, step, layer, x, out);
        if (parts != null) {
            parts.put(BlockPart.SELF_ATTENTION, a);
            parts.put(BlockPart.FEED_FORWARD, f);
        }
        if (last) {
            return Streams.joint(out, c);
        }
        Tensor ac = context ? o.context() : ctxGiven;
        Tensor ch = c.add(MochiNorms.gated(ac, cm.get(1)));
        Tensor cf = reused.get(BlockPart.CONTEXT_FEED_FORWARD);
        if (cf == null) {
            cf = ffContext.forward(MochiNorms.scaled(ch, cm.get(2)));
        }
        Probes.observe(probe, step, new Site(layer, SiteKind.MLP_OUT, TokenStream.TEXT), cf);
        Tensor cout = ch.add(MochiNorms.gated(cf, cm.get(3)));
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
