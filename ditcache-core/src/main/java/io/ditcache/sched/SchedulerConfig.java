package io.ditcache.sched;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Typed, validated reading of a diffusers {@code scheduler_config.json} map. A key that is absent or
 * {@code null}, or listed in {@code _use_default_values} (diffusers drops those when a config moves to
 * another scheduler class), takes the scheduler's default. Keys a scheduler does not read are ignored.
 * Every error names the scheduler, the key, the value and what is allowed.
 */
final class SchedulerConfig {
    /** The most training timesteps a configuration may name (each one is a row of float tables). */
    static final int MAX_TRAIN_TIMESTEPS = 1_000_000;
    private final String scheduler;
    private final Map<String, Object> values;

    SchedulerConfig(String scheduler, Map<String, ?> raw) {
        this.scheduler = scheduler;
        this.values = new HashMap<>(Objects.requireNonNull(raw, "config"));
        Object defaults = values.remove("_use_default_values");
        if (defaults instanceof List<?> keys) {
            keys.forEach(values::remove);
        }
    }

    int integer(String key, int def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw invalid(key, v, "an integer");
    }

    int integerAtLeast(String key, int def, int min) {
        int v = integer(key, def);
        if (v < min) {
            throw invalid(key, v, "an integer >= " + min);
        }
        return v;
    }

    /**
     * {@code num_train_timesteps} (default 1000), bounded before the DDPM family builds its per-timestep tables
     * from it: diffusers models train with 1000.
     */
    int trainTimesteps() {
        int v = integer("num_train_timesteps", 1000);
        if (v < 2 || v > MAX_TRAIN_TIMESTEPS) {
            throw invalid("num_train_timesteps", v, "an integer from 2 to " + MAX_TRAIN_TIMESTEPS);
        }
        return v;
    }

    double number(String key, double def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if ("Infinity".equals(v) || "-Infinity".equals(v)) {
            return Double.parseDouble((String) v); // how describe() writes infinities
        }
        throw invalid(key, v, "a number");
    }

    double positive(String key, double def) {
        double v = number(key, def);
        if (!(v > 0) || Double.isInfinite(v)) {
            throw invalid(key, v, "a finite number > 0");
        }
        return v;
    }

    boolean flag(String key, boolean def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw invalid(key, v, "true or false");
    }

    /** A string that must be one of {@code allowed}. */
    String choice(String key, String def, String... allowed) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof String s && Arrays.asList(allowed).contains(s)) {
            return s;
        }
        throw unsupported(key, v, oneOf(allowed));
    }

    /** A boolean feature this port does not implement: only {@code false} (or absent) is accepted. */
    void requireOff(String key) {
        Object v = values.get(key);
        if (v != null && !Boolean.FALSE.equals(v)) {
            throw unsupported(key, v, "false");
        }
    }

    /** An optional feature this port does not implement: only {@code null} (or absent) is accepted. */
    void requireAbsent(String key) {
        Object v = values.get(key);
        if (v != null) {
            throw unsupported(key, v, "null");
        }
    }

    IllegalArgumentException invalid(String key, Object value, String expected) {
        return new IllegalArgumentException(
                scheduler + " config: \"" + key + "\" = " + show(value) + " is invalid; expected " + expected);
    }

    IllegalArgumentException unsupported(String key, Object value, String allowed) {
        return new IllegalArgumentException(
                scheduler + " config: \"" + key + "\" = " + show(value) + " is not supported; allowed: " + allowed);
    }

    static String oneOf(String... allowed) {
        return Arrays.stream(allowed).map(a -> "\"" + a + "\"").collect(Collectors.joining(", "));
    }

    private static String show(Object v) {
        if (v instanceof String s) {
            return "\"" + s + "\"";
        }
        if (v instanceof List<?> l && l.size() > 4) {
            return "[" + l.size() + " values]";
        }
        return String.valueOf(v);
    }
}
