package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code FeedForward}: {@code net.0.proj} (the activation's projection), the activation, {@code net.2}.
 */
public final class FeedForward extends Module {
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module net;
    private final Module act;
    private final LinearImpl in;
    private final LinearImpl out;
    private final String activation;

    /**
     * @param activation {@code gelu-approximate} (tanh GELU) or {@code gelu}
     */
    public FeedForward(long dim, long inner, long outDim, String activation) {
        this.activation = Activations.check(activation);
        net = register_module("net", new Module());
        act = net.register_module("0", new Module());
        in = act.register_module("proj", Linears.of(dim, inner, true));
        out = net.register_module("2", Linears.of(inner, outDim, true));
    }

    public Tensor forward(Tensor x) {
        return out.forward(Activations.apply(activation, in.forward(x)));
    }
}
