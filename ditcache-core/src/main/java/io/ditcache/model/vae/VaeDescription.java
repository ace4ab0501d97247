package io.ditcache.model.vae;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A VAE as its configuration defines it, known without allocating a weight.
 *
 * @param className  diffusers' {@code _class_name}
 * @param parameters every parameter by diffusers key, in diffusers' registration order, with its shape
 */
public record VaeDescription(String className, Map<String, long[]> parameters) {
    public VaeDescription {
        Objects.requireNonNull(className, "className");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(parameters,
                "parameters")));
    }

    /** Number of weights: diffusers' {@code sum(p.numel() for p in vae.parameters())}. */
    public long parameterCount() {
        return parameterCount("");
    }

    /** Number of weights whose key starts with {@code prefix}, e.g. {@code "encoder."} or {@code "decoder."}. */
    public long parameterCount(String prefix) {
        long n = 0;
        for (Map.Entry<String, long[]> e : parameters.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                n = Math.addExact(n, Arrays.stream(e.getValue()).reduce(1, Math::multiplyExact));
            }
        }
        return n;
    }
}
