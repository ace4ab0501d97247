package io.ditcache.model.dit;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** diffusers' {@code FeedForward} with {@code gelu-approximate}: {@code net.0.proj}, tanh GELU, {@code net.2}. */
final class FeedForward extends Module {
    private final LinearImpl in;
    private final LinearImpl out;
    // Grouping modules made here must stay reachable from Java: libtorch calls back into them (eval(), train()),
    // and one the garbage collector took makes that call fail with a NullPointerException.
    private final Module net;
    private final Module gelu;

    FeedForward(DiTConfig c) {
        int d = c.innerDim();
        net = register_module("net", new Module());
        gelu = net.register_module("0", new Module());
        in = gelu.register_module("proj", Linears.of(d, 4L * d, true));
        out = net.register_module("2", Linears.of(4L * d, d, true));
    }

    Tensor forward(Tensor x) {
        return out.forward(torch.gelu(in.forward(x), "tanh"));
    }
}
