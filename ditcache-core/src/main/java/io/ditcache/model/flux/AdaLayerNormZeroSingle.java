package io.ditcache.model.flux;

import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Norms;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code AdaLayerNormZeroSingle} (FLUX's single-stream blocks): {@code linear} ({@code 3 dim}) of
 * {@code silu(emb)}, chunked as shift, scale and gate; a LayerNorm (eps 1e-6, no affine) modulated by the first
 * two. Kept in the FLUX package: no other family uses it.
 */
final class AdaLayerNormZeroSingle extends Module {
    private static final double EPS = 1e-6;
    private final LinearImpl linear;

    /** The normalised, modulated input and the gate ({@code [N, 1, dim]}). */
    record Modulation(Tensor x, Tensor gate) {
    }

    AdaLayerNormZeroSingle(long dim) {
        linear = register_module("linear", Linears.of(dim, 3 * dim, true));
    }

    Modulation forward(Tensor x, Tensor emb) {
        TensorVector m = linear.forward(torch.silu(emb)).chunk(3, 1);
        Tensor h = Norms.modulate(Norms.layerNorm(x, EPS), m.get(0).unsqueeze(1), m.get(1).unsqueeze(1));
        return new Modulation(h, m.get(2).unsqueeze(1));
    }
}
