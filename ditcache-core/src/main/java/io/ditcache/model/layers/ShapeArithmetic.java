package io.ditcache.model.layers;

import java.util.Map;

/**
 * The arithmetic of parameter shapes that families compute from a config without allocating: overflow-checked
 * products and sums, and linear layers' entries under diffusers' keys.
 */
public final class ShapeArithmetic {
    private ShapeArithmetic() {
    }

    /** The product; {@link ArithmeticException} on overflow. */
    public static long mul(long... factors) {
        long p = 1;
        for (long f : factors) {
            p = Math.multiplyExact(p, f);
        }
        return p;
    }

    /** The sum; {@link ArithmeticException} on overflow. */
    public static long sum(long... terms) {
        long s = 0;
        for (long t : terms) {
            s = Math.addExact(s, t);
        }
        return s;
    }

    /** Adds a linear layer's {@code name.weight [out, in]} and, with {@code bias}, {@code name.bias [out]}. */
    public static void linear(Map<String, long[]> out, String name, long in, long outFeatures, boolean bias) {
        out.put(name + ".weight", new long[] {outFeatures, in});
        if (bias) {
            out.put(name + ".bias", new long[] {outFeatures});
        }
    }

    /** A linear layer with bias; see {@link #linear(Map, String, long, long, boolean)}. */
    public static void linear(Map<String, long[]> out, String name, long in, long outFeatures) {
        linear(out, name, in, outFeatures, true);
    }

    /**
     * Refuses a size below 1.
     *
     * @throws IllegalArgumentException naming the config key and the value
     */
    public static void positive(String key, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(key + " is " + v + ", expected >= 1");
        }
    }
}
