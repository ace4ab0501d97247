package io.ditcache.model;

import io.ditcache.BlockLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A model as its configuration defines it, known without allocating a weight: what {@code inspect} prints and
 * what a family checks a checkpoint's header against.
 *
 * @param className  diffusers' {@code _class_name}
 * @param parameters every parameter by diffusers key, in diffusers' registration order, with its shape
 * @param layout     the blocks in execution order, with their groups, reusable parts and costs
 */
public record ModelDescription(String className, Map<String, long[]> parameters, BlockLayout layout) {
    public ModelDescription {
        Objects.requireNonNull(className, "className");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(parameters,
                "parameters")));
        Objects.requireNonNull(layout, "layout");
    }

    /** Number of weights: the elements of every parameter (diffusers' {@code sum(p.numel())}). */
    public long parameterCount() {
        long n = 0;
        for (long[] shape : parameters.values()) {
            n = Math.addExact(n, Arrays.stream(shape).reduce(1, Math::multiplyExact));
        }
        return n;
    }
}
