package io.ditcache.policy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The JSON-friendly parameters of one policy, read by name with type checks; {@link #finish()} rejects the names
 * nobody asked for. Messages name the policy, the parameter, the value and what was expected.
 */
final class PolicyParameters {
    private final String policy;
    private final Map<String, ?> values;
    private final Set<String> known = new TreeSet<>();

    PolicyParameters(String policy, Map<String, ?> values) {
        this.policy = policy;
        this.values = values == null ? Map.of() : values;
        this.values.forEach((k, v) -> {
            if (v == null) {
                throw new IllegalArgumentException(policy + ": parameter '" + k + "' is null");
            }
        });
    }

    boolean has(String name) {
        known.add(name);
        return values.containsKey(name);
    }

    int integer(String name) {
        return toInt(name, required(name));
    }

    int integer(String name, int fallback) {
        return has(name) ? toInt(name, values.get(name)) : fallback;
    }

    double number(String name) {
        return toDouble(name, required(name));
    }

    double number(String name, double fallback) {
        return has(name) ? toDouble(name, values.get(name)) : fallback;
    }

    /** A list of numbers, or {@code null} where absent. */
    double[] numbers(String name) {
        if (!has(name)) {
            return null;
        }
        Object v = values.get(name);
        if (v instanceof double[] array) {
            return array.clone();
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException(policy + ": parameter '" + name + "' must be a list of numbers, got "
                    + describe(v));
        }
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number n)) {
                throw new IllegalArgumentException(policy + ": parameter '" + name + "' must be a list of numbers,"
                        + " got " + describe(list.get(i)) + " at index " + i);
            }
            out[i] = n.doubleValue();
        }
        return out;
    }

    /** A list of numbers that must be present. */
    double[] requiredNumbers(String name, String hint) {
        double[] out = numbers(name);
        if (out == null) {
            throw new IllegalArgumentException(policy + ": parameter '" + name + "' (a list of numbers) is required"
                    + hint);
        }
        return out;
    }

    /** Rejects parameters that no reader asked for. */
    void finish() {
        for (Map.Entry<String, ?> e : values.entrySet()) {
            if (!known.contains(e.getKey())) {
                throw new IllegalArgumentException(policy + ": unknown parameter '" + e.getKey() + "' = "
                        + describe(e.getValue()) + "; expected " + (known.isEmpty() ? "none" : "one of " + known));
            }
        }
    }

    private Object required(String name) {
        if (!has(name)) {
            throw new IllegalArgumentException(policy + ": parameter '" + name + "' is required");
        }
        return values.get(name);
    }

    private int toInt(String name, Object v) {
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && d >= Integer.MIN_VALUE && d <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw new IllegalArgumentException(policy + ": parameter '" + name + "' must be an integer, got "
                + describe(v));
    }

    private double toDouble(String name, Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException(policy + ": parameter '" + name + "' must be a number, got "
                + describe(v));
    }

    private static String describe(Object v) {
        return (v instanceof String ? "'" + v + "'" : String.valueOf(v)) + " (" + v.getClass().getSimpleName() + ")";
    }
}
