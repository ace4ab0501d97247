package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** diffusers' {@code TimestepEmbedding}: {@code linear_1}, SiLU, {@code linear_2}. */
public final class TimestepEmbedding extends Module {
    private final LinearImpl linear1;
    private final LinearImpl linear2;

    public TimestepEmbedding(long in, long out) {
        linear1 = register_module("linear_1", Linears.of(in, out, true));
        linear2 = register_module("linear_2", Linears.of(out, out, true));
    }

    public Tensor forward(Tensor x) {
        return linear2.forward(torch.silu(linear1.forward(x)));
    }
}
