package io.ditcache.profile;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The numerator of {@link io.ditcache.DistanceMetric#FORECAST_L1_REL}: {@code sum|b - (2a - p)|} over three float32
 * ranges in native memory, in double precision and element order (so it gives the bits of the plain float64
 * reference). A scalar loop: the forecast error is measured only when asked, and the step-to-step kernel
 * ({@link FusedDistances}) supplies the denominator {@code sum|a|}.
 */
final class ForecastDistances {
    private static final int BLOCK = FusedDistances.BLOCK;

    private ForecastDistances() {
    }

    /**
     * {@code sum|b - (2a - p)|} over {@code length} floats at element offsets {@code pOffset} of {@code p} (step
     * i-1), {@code aOffset} of {@code a} (step i) and {@code bOffset} of {@code b} (step i+1). Ranges must have been
     * checked.
     */
    static double sumAbsMiss(FloatPointer p, long pOffset, FloatPointer a, long aOffset, FloatPointer b,
            long bOffset, long length) {
        int size = (int) Math.min(BLOCK, length);
        float[] x = new float[size];
        float[] y = new float[size];
        float[] z = new float[size];
        double sum = 0;
        for (long base = 0; base < length; base += size) {
            int n = (int) Math.min(size, length - base);
            floats(p, pOffset + base, n).get(0, x, 0, n);
            floats(a, aOffset + base, n).get(0, y, 0, n);
            floats(b, bOffset + base, n).get(0, z, 0, n);
            for (int i = 0; i < n; i++) {
                sum += Math.abs((double) z[i] - (2.0 * y[i] - x[i]));
            }
        }
        return sum;
    }

    private static FloatBuffer floats(FloatPointer p, long offset, int n) {
        return FusedDistances.window(p, offset, n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
