package io.ditcache.internal;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Small conversions between libtorch tensors and plain Java arrays; every tensor made here owns its memory. */
public final class Tensors {
    private Tensors() {
    }

    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    public static String shapeString(Tensor t) {
        return java.util.Arrays.toString(shape(t));
    }

    /** A new float32 tensor holding a copy of {@code data}. */
    public static Tensor fromFloats(float[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
        t.data_ptr_float().put(data);
        return t;
    }

    /** A new int64 tensor holding a copy of {@code data}. */
    public static Tensor fromLongs(long[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = torch.empty(shape, new TensorOptions(ScalarType.Long), null);
        t.data_ptr_long().put(data);
        return t;
    }

    /** The elements of {@code t} as float32, in row-major order. */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.to(ScalarType.Float).contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        c.data_ptr_float().get(out);
        return out;
    }

    /** The elements of {@code t} as int64, in row-major order. */
    public static long[] toLongs(Tensor t) {
        Tensor c = t.to(ScalarType.Long).contiguous();
        long[] out = new long[Math.toIntExact(c.numel())];
        c.data_ptr_long().get(out);
        return out;
    }

    /** Whether {@code t} is float32 (scalar types from native calls must be interned before comparing). */
    public static boolean isFloat(Tensor t) {
        return t.scalar_type().intern() == ScalarType.Float;
    }

    public static Scalar scalar(double v) {
        return new Scalar(v);
    }

    private static void checkCount(int n, long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + java.util.Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != n) {
            throw new IllegalArgumentException(n + " elements do not fill shape " + java.util.Arrays.toString(shape));
        }
    }
}
