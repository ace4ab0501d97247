package io.ditcache.sched;

import java.util.Arrays;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Tensor arithmetic of the scheduler steps and the native-memory rule of {@link Scheduler}.
 *
 * <p>diffusers multiplies tensors by 0-dim float32 tensors; libtorch's CPU kernels turn such a scalar
 * operand into a float, so a float coefficient passed as a {@link Scalar} gives the same result. Scalar
 * coefficients are therefore computed in Java {@code float} arithmetic (IEEE, as torch's float32 ops).
 */
final class StepMath {
    private StepMath() {}

    /**
     * Runs {@code body} in a private {@link PointerScope} (releasing its intermediates) and hands the
     * returned tensor to the caller's innermost scope, or to the caller if there is none.
     */
    static Tensor owned(Supplier<Tensor> body) {
        Tensor result;
        try (PointerScope scope = new PointerScope()) {
            result = body.get();
            result.retainReference();
        }
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(result);
            result.releaseReference();
        }
        return result;
    }

    /** Keeps {@code t} alive past the current scope (multistep state); undo with {@link #release}. */
    static Tensor keep(Tensor t) {
        t.retainReference();
        return t;
    }

    static void release(Tensor t) {
        if (t != null) {
            t.releaseReference();
        }
    }

    static Tensor float32(Tensor t) {
        return t.to(ScalarType.Float);
    }

    /** {@code t} converted back to {@code like}'s dtype (a no-op view for float32). */
    static Tensor dtypeOf(Tensor t, Tensor like) {
        return t.to(like.scalar_type().intern());
    }

    static Tensor times(Tensor t, float c) {
        return t.mul(new Scalar(c));
    }

    static Tensor over(Tensor t, float c) {
        return t.div(new Scalar(c));
    }

    static Tensor clamp(Tensor t, double range) {
        return t.clamp(new ScalarOptional(new Scalar(-range)), new ScalarOptional(new Scalar(range)));
    }

    /** Correctly rounded float square root, as torch's {@code x ** 0.5} on float32. */
    static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    static float log(float x) {
        return (float) Math.log(x);
    }

    static float exp(float x) {
        return (float) Math.exp(x);
    }

    static void checkIndex(String scheduler, int steps, int stepIndex) {
        if (stepIndex < 0 || stepIndex >= steps) {
            throw new IndexOutOfBoundsException(
                    scheduler + ": stepIndex must be in [0, " + (steps - 1) + "], got " + stepIndex);
        }
    }

    static void checkSameShape(Tensor a, String nameA, Tensor b, String nameB) {
        if (!a.is_same_size(b)) {
            throw new IllegalArgumentException(nameA + " " + shape(a) + " and " + nameB + " " + shape(b)
                    + " must have the same shape");
        }
    }

    static String shape(Tensor t) {
        long[] dims = new long[(int) t.dim()];
        for (int d = 0; d < dims.length; d++) {
            dims[d] = t.size(d);
        }
        return Arrays.toString(dims);
    }
}
