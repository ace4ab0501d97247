package io.ditcache.model.dit;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** diffusers' {@code FeedForward} with {@code gelu-approximate}: {@code net.0.proj}, tanh GELU, {@code net.2}. */
final class FeedForward extends Module {
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module net;
    private final Module gelu;
    private final LinearImpl in;
    private final LinearImpl out;

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
