package io.ditcache.model.text;

import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * transformers' {@code CLIPEncoderLayer}: pre-LayerNorm self-attention ({@code self_attn.{q,k,v,out}_proj}, q
 * scaled by {@code head_dim^-0.5}) and MLP ({@code mlp.fc1}, activation, {@code mlp.fc2}), each with a residual.
 */
final class ClipEncoderLayer extends Module {
    private final int heads;
    private final String activation;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module attn;
    private final Module mlp;
    private final LinearImpl k;
    private final LinearImpl v;
    private final LinearImpl q;
    private final LinearImpl out;
    private final LayerNorm norm1;
    private final LinearImpl fc1;
    private final LinearImpl fc2;
    private final LayerNorm norm2;

    ClipEncoderLayer(ClipTextConfig c) {
        heads = c.numHeads();
        activation = c.activation();
        long d = c.hiddenSize();
        // transformers' registration order: self_attn (k, v, q, out), layer_norm1, mlp (fc1, fc2), layer_norm2
        attn = register_module("self_attn", new Module());
        k = attn.register_module("k_proj", Linears.of(d, d, true));
        v = attn.register_module("v_proj", Linears.of(d, d, true));
        q = attn.register_module("q_proj", Linears.of(d, d, true));
        out = attn.register_module("out_proj", Linears.of(d, d, true));
        norm1 = register_module("layer_norm1", new LayerNorm(d, c.eps()));
        mlp = register_module("mlp", new Module());
        fc1 = mlp.register_module("fc1", Linears.of(d, c.intermediateSize(), true));
        fc2 = mlp.register_module("fc2", Linears.of(c.intermediateSize(), d, true));
        norm2 = register_module("layer_norm2", new LayerNorm(d, c.eps()));
    }

    /**
     * @param x    {@code [N, L, D]}
     * @param mask additive {@code [N or 1, 1, L, L]}: causal, and padding where a mask was given
     */
    Tensor forward(Tensor x, Tensor mask) {
        Tensor h = norm1.forward(x);
        Tensor a = Attention.sdpa(q.forward(h), k.forward(h), v.forward(h), heads, mask);
        x = x.add(out.forward(a));
        h = fc2.forward(TextActivations.apply(activation, fc1.forward(norm2.forward(x))));
        return x.add(h, new Scalar(1.0));
    }
}
