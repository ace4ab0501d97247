package io.ditcache.model.cogvideox;

import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code CogVideoXLayerNormZero}: {@code linear(silu(temb))} chunked as (shift, scale, gate,
 * enc_shift, enc_scale, enc_gate), and ONE affine LayerNorm shared by the video and the text tokens, each
 * modulated by its own shift and scale.
 */
final class CogVideoXNormZero extends Module {
    private final LinearImpl linear;
    private final AffineLayerNorm norm;

    /** Modulation chunks, each {@code [N, 1, D]}. */
    record Chunks(Tensor shift, Tensor scale, Tensor gate, Tensor encShift, Tensor encScale, Tensor encGate) {
        /** The video tokens normalised by {@code norm} and modulated. */
        Tensor video(CogVideoXNormZero n, Tensor x) {
            return n.norm.forward(x).mul(scale.add(new org.bytedeco.pytorch.Scalar(1.0))).add(shift);
        }

        /** The text tokens normalised by {@code norm} and modulated. */
        Tensor text(CogVideoXNormZero n, Tensor c) {
            return n.norm.forward(c).mul(encScale.add(new org.bytedeco.pytorch.Scalar(1.0))).add(encShift);
        }
    }

    CogVideoXNormZero(long conditioningDim, long dim, double eps) {
        linear = register_module("linear", Linears.of(conditioningDim, 6 * dim, true));
        norm = register_module("norm", new AffineLayerNorm(dim, eps));
    }

    /** The six chunks for {@code temb} ({@code [N, conditioningDim]}). */
    Chunks chunks(Tensor temb) {
        TensorVector c = linear.forward(torch.silu(temb)).chunk(6, 1);
        return new Chunks(c.get(0).unsqueeze(1), c.get(1).unsqueeze(1), c.get(2).unsqueeze(1),
                c.get(3).unsqueeze(1), c.get(4).unsqueeze(1), c.get(5).unsqueeze(1));
    }
}
