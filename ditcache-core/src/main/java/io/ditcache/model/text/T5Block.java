package io.ditcache.model.text;

import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.RmsNorm;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * transformers' {@code T5Block} of an encoder: {@code layer.0} (RMS norm, self-attention without bias and without
 * the {@code 1/sqrt(d_kv)} scaling, the position bias added to the logits; block 0 holds the
 * {@code relative_attention_bias} table every block uses) and {@code layer.1} (RMS norm, {@code DenseReluDense}:
 * gated {@code wo(act(wi_0 x) * wi_1 x)} or {@code wo(act(wi x))}), each with a residual.
 */
final class T5Block extends Module {
    /** transformers clamps float16 hidden states this far below the dtype's largest value. */
    private static final double HALF_CLAMP = 65504.0 - 1000.0;
    private final int heads;
    private final boolean gated;
    private final String activation;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module layer;
    private final Module attentionLayer;
    private final Module attention;
    private final Module ffLayer;
    private final Module dense;
    private final LinearImpl q;
    private final LinearImpl k;
    private final LinearImpl v;
    private final LinearImpl o;
    private final EmbeddingImpl relativeBias;
    private final RmsNorm norm0;
    private final LinearImpl wi0;
    private final LinearImpl wi1;
    private final LinearImpl wo;
    private final RmsNorm norm1;

    T5Block(T5EncoderConfig c, boolean hasRelativeBias) {
        heads = c.numHeads();
        gated = c.gated();
        activation = c.activation();
        long d = c.dModel();
        long inner = c.innerDim();
        layer = register_module("layer", new Module());
        attentionLayer = layer.register_module("0", new Module());
        attention = attentionLayer.register_module("SelfAttention", new Module());
        q = attention.register_module("q", Linears.of(d, inner, false));
        k = attention.register_module("k", Linears.of(d, inner, false));
        v = attention.register_module("v", Linears.of(d, inner, false));
        o = attention.register_module("o", Linears.of(inner, d, false));
        relativeBias = hasRelativeBias ? attention.register_module("relative_attention_bias",
                new EmbeddingImpl(c.buckets(), c.numHeads())) : null;
        norm0 = attentionLayer.register_module("layer_norm", new RmsNorm(d, c.eps()));
        ffLayer = layer.register_module("1", new Module());
        dense = ffLayer.register_module("DenseReluDense", new Module());
        wi0 = dense.register_module(gated ? "wi_0" : "wi", Linears.of(d, c.dFf(), false));
        wi1 = gated ? dense.register_module("wi_1", Linears.of(d, c.dFf(), false)) : null;
        wo = dense.register_module("wo", Linears.of(c.dFf(), d, false));
        norm1 = ffLayer.register_module("layer_norm", new RmsNorm(d, c.eps()));
    }

    /** Block 0's table of per-bucket, per-head biases ({@code [buckets, heads]}); null in the other blocks. */
    EmbeddingImpl relativeBias() {
        return relativeBias;
    }

    /**
     * @param x    {@code [N, L, d_model]}
     * @param bias {@code [N or 1, heads, L, L]}: the position bias plus the padding mask, added to the logits
     */
    Tensor forward(Tensor x, Tensor bias) {
        Tensor h = norm0.forward(x);
        Tensor qh = Attention.split(q.forward(h), heads);
        Tensor kh = Attention.split(k.forward(h), heads);
        Tensor vh = Attention.split(v.forward(h), heads);
        // T5 does not scale the logits by 1/sqrt(d_kv): scale 1
        Tensor a = torch.scaled_dot_product_attention(qh, kh, vh, new TensorOptional(bias), 0.0, false,
                new DoubleOptional(1.0), false);
        x = clampHalf(x.add(o.forward(Attention.merge(a))));
        h = norm1.forward(x);
        Tensor f = TextActivations.apply(activation, wi0.forward(h));
        if (gated) {
            f = f.mul(wi1.forward(h));
        }
        return clampHalf(x.add(wo.forward(f)));
    }

    /** As transformers keeps float16 T5 finite: clamped to the dtype's range less 1000. */
    private static Tensor clampHalf(Tensor x) {
        if (x.scalar_type().intern() != ScalarType.Half) {
            return x;
        }
        return x.clamp(new ScalarOptional(new Scalar(-HALF_CLAMP)), new ScalarOptional(new Scalar(HALF_CLAMP)));
    }
}
