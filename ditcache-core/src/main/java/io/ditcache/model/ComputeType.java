package io.ditcache.model;

import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The dtype a model holds its weights in and computes with. float32 is the default and the reference; bfloat16
 * halves the weights' memory and runs where the device has bfloat16 arithmetic (CUDA from sm_80, CPUs with
 * AVX-512 BF16 or AMX); float16 is for GPUs. Inputs and outputs of {@link Denoiser#forward} stay float32 whatever
 * the compute type: a family converts at its entry and exit.
 */
public enum ComputeType {
    FLOAT32(ScalarType.Float),
    BFLOAT16(ScalarType.BFloat16),
    FLOAT16(ScalarType.Half);

    private final ScalarType scalarType;

    ComputeType(ScalarType scalarType) {
        this.scalarType = scalarType;
    }

    /** libtorch's dtype. */
    public ScalarType scalarType() {
        return scalarType;
    }

    /** The lowercase name a user writes ({@code float32}, {@code bfloat16}, {@code float16}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a label (any case; {@code fp32}, {@code bf16}, {@code fp16} too).
     *
     * @throws IllegalArgumentException naming the value and the labels known
     */
    public static ComputeType parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "fp32", "f32", "float" -> v = "float32";
            case "bf16" -> v = "bfloat16";
            case "fp16", "f16", "half" -> v = "float16";
            default -> { }
        }
        for (ComputeType t : values()) {
            if (t.label().equals(v)) {
                return t;
            }
        }
        throw new IllegalArgumentException("compute dtype \"" + s + "\", expected one of "
                + Arrays.stream(values()).map(ComputeType::label).toList());
    }
}
