package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code AdaLayerNormZero} given a ready embedding (SD3's and FLUX's joint blocks): {@code linear}
 * ({@code 6 dim}) of {@code silu(emb)}, chunked as shift, scale, gate of the attention and shift, scale, gate of
 * the feed-forward; a LayerNorm (eps 1e-6, no affine) modulated by the first two.
 */
public final class AdaLayerNormZero extends Module {
    private static final double EPS = 1e-6;
    private final LinearImpl linear;

    /** The normalised, modulated input and the other four modulation vectors, each {@code [N, 1, dim]}. */
    public record Modulation(Tensor x, Tensor gateMsa, Tensor shiftMlp, Tensor scaleMlp, Tensor gateMlp) {
    }

    public AdaLayerNormZero(long dim) {
        linear = register_module("linear", Linears.of(dim, 6 * dim, true));
    }

    public Modulation forward(Tensor x, Tensor emb) {
        TensorVector m = linear.forward(torch.silu(emb)).chunk(6, 1);
        Tensor h = Norms.modulate(Norms.layerNorm(x, EPS), m.get(0).unsqueeze(1), m.get(1).unsqueeze(1));
        return new Modulation(h, m.get(2).unsqueeze(1), m.get(3).unsqueeze(1), m.get(4).unsqueeze(1),
                m.get(5).unsqueeze(1));
    }
}
