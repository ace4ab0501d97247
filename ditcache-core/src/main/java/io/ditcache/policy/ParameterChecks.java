package io.ditcache.policy;

import java.util.Arrays;

/** Constructor checks whose messages name the policy, the parameter, the bad value and the allowed range. */
final class ParameterChecks {
    private ParameterChecks() {
    }

    static int atLeast(String policy, String name, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(policy + ": " + name + " must be >= " + min + ", got " + value);
        }
        return value;
    }

    static int inRange(String policy, String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(policy + ": " + name + " must be in [" + min + ", " + max
                    + "], got " + value);
        }
        return value;
    }

    /** A count that may be -1 for "none": -1 or at least {@code min}. */
    static int atLeastOrNone(String policy, String name, int value, int min, String none) {
        if (value != -1 && value < min) {
            throw new IllegalArgumentException(policy + ": " + name + " must be -1 (" + none + ") or >= " + min
                    + ", got " + value);
        }
        return value;
    }

    /** A finite number {@code >= 0}. */
    static double nonNegative(String policy, String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(policy + ": " + name + " must be a finite number >= 0, got "
                    + value);
        }
        return value;
    }

    static double inRange(String policy, String name, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException(policy + ": " + name + " must be in [" + min + ", " + max
                    + "], got " + value);
        }
        return value;
    }

    /** A copy of {@code values}: at least one, all finite, and all {@code > 0} when {@code positive}. */
    static double[] finiteValues(String policy, String name, double[] values, boolean positive) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException(policy + ": " + name + " must hold at least one number, got "
                    + (values == null ? "null" : "[]"));
        }
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            if (!Double.isFinite(v) || (positive && v <= 0)) {
                throw new IllegalArgumentException(policy + ": " + name + "[" + i + "] must be a finite number"
                        + (positive ? " > 0" : "") + ", got " + v + " in " + Arrays.toString(values));
            }
        }
        return values.clone();
    }
}
