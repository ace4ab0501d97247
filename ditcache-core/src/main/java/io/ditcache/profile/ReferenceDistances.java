package io.ditcache.profile;

import io.ditcache.DistanceMetric;

/** The plain reference for {@link FusedDistances}: each metric on its own, straight from its definition. */
public final class ReferenceDistances {
    private ReferenceDistances() {
    }

    public static double value(DistanceMetric metric, float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        }
        return switch (metric) {
            case L1_MEAN -> {
                double s = 0;
                for (int i = 0; i < a.length; i++) {
                    s += Math.abs((double) b[i] - a[i]);
                }
                yield s / a.length;
            }
            case L1_REL -> {
                double num = 0;
                double den = 0;
                for (int i = 0; i < a.length; i++) {
                    num += Math.abs((double) b[i] - a[i]);
                    den += Math.abs((double) a[i]);
                }
                yield num / den;
            }
            case COSINE -> 1.0 - dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
            case NORM_RATIO -> Math.sqrt(dot(b, b) / dot(a, a));
            case FORECAST_L1_REL -> throw new IllegalArgumentException(metric + " compares three steps: use "
                    + "forecast(p, a, b)");
        };
    }

    /** {@link DistanceMetric#FORECAST_L1_REL} of steps {@code p} (i-1), {@code a} (i) and {@code b} (i+1). */
    public static double forecast(float[] p, float[] a, float[] b) {
        if (p.length != a.length || a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + p.length + ", " + a.length + ", " + b.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += Math.abs((double) b[i] - (2.0 * a[i] - p[i]));
            den += Math.abs((double) a[i]);
        }
        return num / den;
    }

    private static double dot(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (double) x[i] * y[i];
        }
        return s;
    }
}
