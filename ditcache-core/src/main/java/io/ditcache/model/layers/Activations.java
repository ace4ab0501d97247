package io.ditcache.model.layers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The activations diffusers' configs name, by their config strings. */
public final class Activations {
    private Activations() {
    }

    /**
     * Applies {@code name}: {@code gelu-approximate} / {@code gelu_tanh} (tanh GELU), {@code gelu} (exact),
     * {@code silu}.
     *
     * @throws IllegalArgumentException for another name
     */
    public static Tensor apply(String name, Tensor x) {
        return switch (name) {
            case "gelu-approximate", "gelu_tanh" -> torch.gelu(x, "tanh");
            case "gelu" -> torch.gelu(x);
            case "silu" -> torch.silu(x);
            default -> throw new IllegalArgumentException(unknown(name));
        };
    }

    /** Refuses a name {@link #apply} does not know, before a module is built. */
    public static String check(String name) {
        return switch (name) {
            case "gelu-approximate", "gelu_tanh", "gelu", "silu" -> name;
            default -> throw new IllegalArgumentException(unknown(name));
        };
    }

    private static String unknown(String name) {
        return "activation \"" + name + "\", expected one of gelu-approximate, gelu_tanh, gelu, silu";
    }
}
