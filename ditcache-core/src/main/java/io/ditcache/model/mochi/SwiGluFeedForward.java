package io.ditcache.model.mochi;

import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code FeedForward} with {@code activation_fn = "swiglu"} and no biases, as Mochi's blocks build it:
 * {@code net.0.proj} ({@code dim -> 2 inner}) split into a value half (first) and a gate half, {@code value *
 * silu(gate)}, then {@code net.2} ({@code inner -> dim}).
 */
final class SwiGluFeedForward extends Module {
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module net;
    private final Module act;
    private final LinearImpl in;
    private final LinearImpl out;

    SwiGluFeedForward(long dim, long inner) {
        net = register_module("net", new Module());
        act = net.register_module("0", new Module());
        in = act.register_module("proj", Linears.of(dim, 2 * inner, false));
        out = net.register_module("2", Linears.of(inner, dim, false));
    }

    Tensor forward(Tensor x) {
        TensorVector halves = in.forward(x).chunk(2, -1);
        return out.forward(halves.get(0).mul(torch.silu(halves.get(1))));
    }
}
