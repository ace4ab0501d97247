package io.ditcache.model.flux;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.model.layers.Activations;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Probes;
import java.util.Map;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code FluxSingleTransformerBlock}, a single-stream block over the concatenated [text; image]
 * sequence: one adaLN-Zero ({@code norm}), then attention (no output projection) and an MLP branch
 * ({@code proj_mlp}, tanh GELU) side by side, fused by {@code proj_out} over their concatenation, gated and added
 * to the input.
 *
 * <p>Sites: K (after {@code norm_k}, before RoPE), V, ATTN_OUT (the merged-head attention output) and MLP_OUT (the
 * MLP branch, before {@code proj_out}) are reported per stream: the image tokens at the {@link TokenStream#IMAGE}
 * site, the text tokens at the {@link TokenStream#TEXT} site, as the profiler measures them; with
 * {@code wholeSequence} (diffusers' forward, whose captures hold the whole sequence) the IMAGE site gets all tokens
 * and the TEXT site nothing. BLOCK_OUT (both streams) and BLOCK_RESIDUAL (image) are always per stream, as
 * diffusers splits the block's output.
 */
final class FluxSingleBlock extends Module {
    private final int layer;
    private final AdaLayerNormZeroSingle norm;
    private final LinearImpl projMlp;
    private final LinearImpl projOut;
    private final FluxAttention attn;

    FluxSingleBlock(FluxConfig c, int layer) {
        this.layer = layer;
        int d = c.innerDim();
        long mlp = (long) FluxConfig.MLP_RATIO * d;
        norm = register_module("norm", new AdaLayerNormZeroSingle(d));
        projMlp = register_module("proj_mlp", Linears.of(d, mlp, true));
        projOut = register_module("proj_out", Linears.of(d + mlp, d, true));
        attn = register_module("attn", new FluxAttention(d, c.numHeads(), c.headDim(), false));
    }

    int layer() {
        return layer;
    }

    /**
     * The block on {@code seq} ({@code [N, T + I, D]}, text tokens first).
     *
     * @param textTokens    {@code T}
     * @param wholeSequence report K, V, ATTN_OUT and MLP_OUT over the whole sequence at the IMAGE site
     * @param reused        SELF_ATTENTION (the attention output) and FEED_FORWARD (the MLP branch) to take as
     *                      given instead of computing them
     * @param parts         if not null, receives both parts (computed or given)
     * @return {@code [N, T + I, D]}
     */
    Tensor forward(Tensor seq, long textTokens, Tensor temb, FluxRope rope, Step step, ActivationProbe probe,
            boolean wholeSequence, Map<BlockPart, Tensor> reused, Map<BlockPart, Tensor> parts) {
        AdaLayerNormZeroSingle.Modulation m = norm.forward(seq, temb);
        Tensor mlp = reused.get(BlockPart.FEED_FORWARD);
        if (mlp == null) {
            mlp = Activations.apply("gelu_tanh", projMlp.forward(m.x()));
        }
        Tensor attention = reused.get(BlockPart.SELF_ATTENTION);
        if (attention == null) {
            FluxAttention.Projected p = attn.project(m.x());
            observe(probe, step, SiteKind.K, p.mergedK(), textTokens, wholeSequence);
            observe(probe, step, SiteKind.V, p.v(), textTokens, wholeSequence);
            attention = attn.attend(null, p, rope);
        }
        observe(probe, step, SiteKind.ATTN_OUT, attention, textTokens, wholeSequence);
        observe(probe, step, SiteKind.MLP_OUT, mlp, textTokens, wholeSequence);
        Tensor out = seq.add(m.gate().mul(projOut.forward(torch.cat(new TensorVector(attention, mlp), 2))));
        observe(probe, step, SiteKind.BLOCK_OUT, out, textTokens, false);
        Site residual = Site.of(layer, SiteKind.BLOCK_RESIDUAL);
        if (probe.wants(residual)) {
            probe.observeResidual(step, residual, image(out, textTokens), image(seq, textTokens));
        }
        if (parts != null) {
            parts.put(BlockPart.SELF_ATTENTION, attention);
            parts.put(BlockPart.FEED_FORWARD, mlp);
        }
        return out;
    }

    /** The image tokens of a [text; image] tensor. */
    static Tensor image(Tensor seq, long textTokens) {
        return seq.narrow(1, textTokens, seq.size(1) - textTokens);
    }

    private void observe(ActivationProbe probe, Step step, SiteKind kind, Tensor t, long textTokens,
            boolean wholeSequence) {
        Site image = Site.of(layer, kind);
        if (wholeSequence) {
            Probes.observe(probe, step, image, t);
            return;
        }
        if (probe.wants(image)) {
            probe.observe(step, image, image(t, textTokens));
        }
        Probes.observe(probe, step, new Site(layer, kind, TokenStream.TEXT), t.narrow(1, 0, textTokens));
    }
}
