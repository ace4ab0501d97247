package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LinearOptions;

/** Linear layers as diffusers names them ({@code weight [out, in]}, {@code bias [out]}). */
public final class Linears {
    private Linears() {
    }

    /** {@code y = x W^T + b}, with or without the bias. */
    public static LinearImpl of(long in, long out, boolean bias) {
        LinearOptions o = new LinearOptions(in, out);
        o.bias().put(bias);
        return new LinearImpl(o);
    }
}
