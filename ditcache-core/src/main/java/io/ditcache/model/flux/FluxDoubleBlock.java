package io.ditcache.model.flux;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.AdaLayerNormZero;
import io.ditcache.model.layers.FeedForward;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.Probes;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code FluxTransformerBlock}, a double-stream block: the image and the context (text) stream each
 * have their adaLN-Zero ({@code norm1}, {@code norm1_context}), projections and feed-forward ({@code ff},
 * {@code ff_context}, tanh GELU); one attention runs over [context; image] with RMS-normed q and k and RoPE.
 *
 * <p>Sites: K (after {@code norm_k}, before RoPE), V, ATTN_OUT (after {@code to_out}), MLP_OUT, BLOCK_OUT and
 * BLOCK_RESIDUAL of the image stream; K, V, ATTN_OUT (after {@code to_add_out}), MLP_OUT and BLOCK_OUT of the
 * context stream ({@link TokenStream#TEXT}); block 0 also reports its {@code norm1} output (MODULATED_INPUT).
 */
final class FluxDoubleBlock extends Module {
    private static final double NORM2_EPS = 1e-6;
    private final int layer;
    private final AdaLayerNormZero norm1;
    private final AdaLayerNormZero norm1Context;
    private final FluxAttention attn;
    private final FeedForward ff;
    private final FeedForward ffContext;

    FluxDoubleBlock(FluxConfig c, int layer) {
        this.layer = layer;
        int d = c.innerDim();
        norm1 = register_module("norm1", new AdaLayerNormZero(d));
        norm1Context = register_module("norm1_context", new AdaLayerNormZero(d));
        attn = register_module("attn", new FluxAttention(d, c.numHeads(), c.headDim(), true));
        ff = register_module("ff", new FeedForward(d, (long) FluxConfig.MLP_RATIO * d, d, "gelu-approximate"));
        ffContext = register_module("ff_context", new FeedForward(d, (long) FluxConfig.MLP_RATIO * d, d,
                "gelu-approximate"));
    }

    int layer() {
        return layer;
    }

    /**
     * The block on {@code x} (image, {@code [N, I, D]}) and {@code context} ({@code [N, T, D]}).
     *
     * @param reused the parts to take as given (before their gates) instead of computing them: SELF_ATTENTION,
     *               CONTEXT_ATTENTION (the joint attention runs unless both are given), FEED_FORWARD,
     *               CONTEXT_FEED_FORWARD
     * @param parts  if not null, receives the four parts' outputs (computed or given)
     * @return the image and context outputs
     */
    Streams forward(Tensor x, Tensor context, Tensor temb, FluxRope rope, Step step, ActivationProbe probe,
            Map<BlockPart, Tensor> reused, Map<BlockPart, Tensor> parts) {
        AdaLayerNormZero.Modulation m = norm1.forward(x, temb);
        AdaLayerNormZero.Modulation mc = norm1Context.forward(context, temb);
        if (layer == 0) {
            Probes.observe(probe, step, Site.of(layer, SiteKind.MODULATED_INPUT), m.x());
        }
        Tensor attnImage = reused.get(BlockPart.SELF_ATTENTION);
        Tensor attnContext = reused.get(BlockPart.CONTEXT_ATTENTION);
        if (attnImage == null || attnContext == null) {
            FluxAttention.Projected p = attn.project(m.x());
            FluxAttention.Projected pc = attn.projectContext(mc.x());
            observe(probe, step, SiteKind.K, p.mergedK(), pc.mergedK());
            observe(probe, step, SiteKind.V, p.v(), pc.v());
            Tensor joint = attn.attend(pc, p, rope);
            long t = context.size(1);
            if (attnImage == null) {
                attnImage = attn.out(joint.narrow(1, t, x.size(1)));
            }
            if (attnContext == null) {
                attnContext = attn.contextOut(joint.narrow(1, 0, t));
            }
        }
        observe(probe, step, SiteKind.ATTN_OUT, attnImage, attnContext);
        Tensor hidden = x.add(m.gateMsa().mul(attnImage));
        Tensor mlp = reused.get(BlockPart.FEED_FORWARD);
        if (mlp == null) {
            mlp = ff.forward(Norms.modulate(Norms.layerNorm(hidden, NORM2_EPS), m.shiftMlp(), m.scaleMlp()));
        }
        Tensor out = hidden.add(m.gateMlp().mul(mlp));

        Tensor ctxHidden = context.add(mc.gateMsa().mul(attnContext));
        Tensor ctxMlp = reused.get(BlockPart.CONTEXT_FEED_FORWARD);
        if (ctxMlp == null) {
            ctxMlp = ffContext.forward(Norms.modulate(Norms.layerNorm(ctxHidden, NORM2_EPS), mc.shiftMlp(),
                    mc.scaleMlp()));
        }
        Tensor ctxOut = ctxHidden.add(mc.gateMlp().mul(ctxMlp));
        observe(probe, step, SiteKind.MLP_OUT, mlp, ctxMlp);
        observe(probe, step, SiteKind.BLOCK_OUT, out, ctxOut);
        Site residual = Site.of(layer, SiteKind.BLOCK_RESIDUAL);
        if (probe.wants(residual)) {
            probe.observeResidual(step, residual, out, x);
        }
        if (parts != null) {
            parts.put(BlockPart.SELF_ATTENTION, attnImage);
            parts.put(BlockPart.CONTEXT_ATTENTION, attnContext);
            parts.put(BlockPart.FEED_FORWARD, mlp);
            parts.put(BlockPart.CONTEXT_FEED_FORWARD, ctxMlp);
        }
        return Streams.joint(out, ctxOut);
    }

    /** Block 0's {@code norm1} output (TeaCache's signal), computed on its own. */
    Tensor modulatedInput(Tensor x, Tensor temb) {
        return norm1.forward(x, temb).x();
    }

    private void observe(ActivationProbe probe, Step step, SiteKind kind, Tensor image, Tensor text) {
        Probes.observe(probe, step, Site.of(layer, kind), image);
        Probes.observe(probe, step, new Site(layer, kind, TokenStream.TEXT), text);
    }
}
