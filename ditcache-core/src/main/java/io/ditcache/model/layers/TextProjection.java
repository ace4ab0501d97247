package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code PixArtAlphaTextProjection}: {@code linear_1}, an activation, {@code linear_2}; PixArt's caption
 * projection (tanh GELU) and SD3's and FLUX's pooled-text embedding (SiLU).
 */
public final class TextProjection extends Module {
    private final LinearImpl linear1;
    private final LinearImpl linear2;
    private final String act;

    /** @param act {@code gelu_tanh} or {@code silu} */
    public TextProjection(long in, long hidden, long out, String act) {
        this.act = Activations.check(act);
        linear1 = register_module("linear_1", Linears.of(in, hidden, true));
        linear2 = register_module("linear_2", Linears.of(hidden, out, true));
    }

    public Tensor forward(Tensor x) {
        return linear2.forward(Activations.apply(act, linear1.forward(x)));
    }
}
