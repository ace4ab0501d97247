package io.ditcache.sample;

import io.ditcache.internal.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;

/**
 * Final latents of a sampling call, {@code [samples, ...latent shape]} (for an image {@code [samples, channels,
 * height, width]}), as plain Java values.
 *
 * @param values row-major float32 values
 * @param shape  the shape
 */
public record Samples(float[] values, long[] shape) {
    public Samples {
        long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        if (n != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        }
    }

    /** A new tensor holding these values (the caller owns it). */
    public Tensor tensor() {
        return Tensors.fromFloats(values, shape);
    }

    /** Values of sample {@code i}. */
    public float[] sample(int i) {
        int per = values.length / (int) shape[0];
        return Arrays.copyOfRange(values, i * per, (i + 1) * per);
    }
}
