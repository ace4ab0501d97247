package io.ditcache.model.text;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The activations transformers' text-encoder configs name ({@code ACT2FN} keys). */
final class TextActivations {
    private static final String KNOWN = "quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, relu";

    private TextActivations() {
    }

    /** {@code name}, or an IllegalArgumentException naming {@code key}, the value and the names known. */
    static String check(String key, String name) {
        return switch (name == null ? "" : name) {
            case "quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu" -> name;
            default -> throw new IllegalArgumentException(key + " names activation \"" + name + "\", expected one of "
                    + KNOWN);
        };
    }

    /** Applies {@code name} ({@link #check checked}). */
    static Tensor apply(String name, Tensor x) {
        return switch (name) {
            case "quick_gelu" -> x.mul(torch.sigmoid(x.mul(new Scalar(1.702))));
            case "gelu" -> torch.gelu(x);
            case "gelu_new", "gelu_pytorch_tanh" -> torch.gelu(x, "tanh");
            case "relu" -> torch.relu(x);
            default -> throw new IllegalArgumentException(check("activation", name));
        };
    }
}
