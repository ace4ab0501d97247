package io.ditcache;

/**
 * How far two correct float32 sampling runs may drift apart when their kernels round differently: another CPU
 * (libtorch and OpenBLAS pick kernels by instruction set and matrix shape), another batch size, another thread
 * count. This is the tolerance of every cross-machine and batch-invariance comparison in the tests.
 *
 * <p>Float32 rounds each operation with relative error at most {@code u = 2^-24}. A model call sums dot products
 * whose blocking (and so rounding) depends on the kernel; the sampler carries each call's error into the next
 * latent, so the difference grows with the step count {@code N} (about linearly: measured below), and
 * classifier-free guidance {@code uncond + g (cond - uncond)} multiplies a model-output error by up to
 * {@code |g| + |g - 1|} ({@code = 2g - 1} for {@code g >= 1}). Hence the bound, relative to
 * {@code max(1, |x|)}:
 *
 * <pre>  tol = C * u * N * max(1, 2g - 1),   C = 128</pre>
 *
 * <p>{@code C} covers the per-call constant (dot products of length {@code K} differ by about {@code sqrt(K) u}
 * between blockings) and the schedulers' own amplification. Measured on an AMD EPYC (AVX-512) with
 * {@code ATEN_CPU_CAPABILITY} = default / avx2 / avx512 and batch 1 vs 2 on the tiny test DiT (2 to 32 steps,
 * guidance 1 and 3, DDIM, DDPM, DPM-Solver++): the largest drift was {@code C = 62} (DPM-Solver++, 2 steps,
 * where the last step divides by a small alpha); DDIM and DDPM stayed below {@code C = 6}. The shipped model's
 * recorded 10-step samples (made on an Intel Xeon) differ from that machine's by at most 2.3e-5, i.e.
 * {@code C = 26}. A real defect (a wrong row, seed, schedule or weight) moves samples by 1e-2 or more, far above
 * the bound.
 */
public final class Float32Drift {
    /** Unit roundoff of float32. */
    public static final double U = 0x1p-24;
    /** Per-step constant; see the class comment for how it was measured. */
    public static final double C = 128;

    private Float32Drift() {
    }

    /** The relative tolerance (to {@code max(1, |x|)}) of a sample after {@code steps} steps at {@code guidance}. */
    public static double tolerance(int steps, double guidance) {
        return C * U * steps * Math.max(1, 2 * guidance - 1);
    }

    /**
     * The largest {@code |got - want| / max(1, |want|)} over two arrays of one shape.
     *
     * @throws IllegalArgumentException when the lengths differ
     */
    public static double maxRelativeDifference(float[] want, float[] got) {
        if (want.length != got.length) {
            throw new IllegalArgumentException("lengths differ: " + want.length + " vs " + got.length);
        }
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }
}
