package io.ditcache.model.text;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A text encoder as its configuration defines it, known without allocating a weight: what {@code inspect} prints
 * and what loading checks a checkpoint's header against.
 *
 * @param className  transformers' class, e.g. {@code T5EncoderModel}
 * @param parameters every parameter by transformers' key, in registration order, with its shape (a tied
 *                   embedding once)
 */
public record TextEncoderDescription(String className, Map<String, long[]> parameters) {
    public TextEncoderDescription {
        Objects.requireNonNull(className, "className");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(parameters,
                "parameters")));
    }

    /** {@code vocab_size}: rows of the token embedding, the first parameter. */
    public int vocabSize() {
        return Math.toIntExact(parameters.values().iterator().next()[0]);
    }

    /** Number of weights: the elements of every parameter (transformers' {@code sum(p.numel())}). */
    public long parameterCount() {
        return TextEncoders.count(parameters);
    }
}
