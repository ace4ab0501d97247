package io.ditcache.model.dit;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LinearOptions;

/** Linear layers as diffusers names them ({@code weight [out, in]}, {@code bias [out]}). */
final class Linears {
    private Linears() {
    }

    static LinearImpl of(long in, long out, boolean bias) {
        LinearOptions o = new LinearOptions(in, out);
        o.bias().put(bias);
        return new LinearImpl(o);
    }
}
