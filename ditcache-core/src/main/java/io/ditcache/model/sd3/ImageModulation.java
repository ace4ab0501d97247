package io.ditcache.model.sd3;

import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Norms;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A joint block's {@code norm1}: diffusers' {@code AdaLayerNormZero} ({@code linear} of {@code 6 dim}), or in SD3.5's
 * dual-attention blocks {@code SD35AdaLayerNormZeroX} ({@code 9 dim}: a second shift, scale and gate for
 * {@code attn2}). One LayerNorm (eps 1e-6, no affine), modulated once per attention.
 */
final class ImageModulation extends Module {
    private static final double EPS = 1e-6;
    private final boolean dual;
    private final LinearImpl linear;

    /**
     * The modulated inputs and gates, each vector {@code [N, 1, dim]}.
     *
     * @param x  input of the joint attention
     * @param x2 input of {@code attn2}, or null outside dual blocks
     */
    record Modulation(Tensor x, Tensor gateMsa, Tensor shiftMlp, Tensor scaleMlp, Tensor gateMlp, Tensor x2,
            Tensor gateMsa2) {
    }

    ImageModulation(long dim, boolean dual) {
        this.dual = dual;
        linear = register_module("linear", Linears.of(dim, (dual ? 9 : 6) * dim, true));
    }

    Modulation forward(Tensor x, Tensor emb) {
        TensorVector m = linear.forward(torch.silu(emb)).chunk(dual ? 9 : 6, 1);
        Tensor normed = Norms.layerNorm(x, EPS);
        Tensor h = Norms.modulate(normed, v(m, 0), v(m, 1));
        if (!dual) {
            return new Modulation(h, v(m, 2), v(m, 3), v(m, 4), v(m, 5), null, null);
        }
        Tensor h2 = Norms.modulate(normed, v(m, 6), v(m, 7));
        return new Modulation(h, v(m, 2), v(m, 3), v(m, 4), v(m, 5), h2, v(m, 8));
    }

    /** Only the joint attention's modulated input (TeaCache's signal). */
    Tensor modulatedInput(Tensor x, Tensor emb) {
        TensorVector m = linear.forward(torch.silu(emb)).chunk(dual ? 9 : 6, 1);
        return Norms.modulate(Norms.layerNorm(x, EPS), v(m, 0), v(m, 1));
    }

    private static Tensor v(TensorVector m, int i) {
        return m.get(i).unsqueeze(1);
    }
}
