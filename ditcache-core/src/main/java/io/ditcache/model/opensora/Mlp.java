package io.ditcache.model.opensora;

import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** timm's {@code Mlp} as Open-Sora builds it: {@code fc1}, tanh-approximated GELU, {@code fc2}. */
final class Mlp extends Module {
    private final LinearImpl fc1;
    private final LinearImpl fc2;

    Mlp(long in, long hidden, long out) {
        fc1 = register_module("fc1", Linears.of(in, hidden, true));
        fc2 = register_module("fc2", Linears.of(hidden, out, true));
    }

    Tensor forward(Tensor x) {
        return fc2.forward(torch.gelu(fc1.forward(x), "tanh"));
    }
}
