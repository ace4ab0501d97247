package io.ditcache.examples.bench;

import io.ditcache.DistanceMetric;
import io.ditcache.backend.DistanceSums;
import io.ditcache.profile.FusedDistances;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The fused distance kernel against libtorch on two large float32 tensors: all variants run interleaved in one
 * process (the order rotates each repeat), after a warm-up, and the median of the repeats is reported.
 *
 * <pre>
 * OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
 *   java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.bench.DistanceBenchmark [elements] [repeats]
 * </pre>
 */
public final class DistanceBenchmark {
    private static final String[] NAMES = {"fused, 4 metrics", "fused, 4 metrics, one thread",
        "torch b.sub(a).abs().mean()", "torch, 4 metrics"};

    /**
     * Median times in milliseconds.
     *
     * @param elements      floats per tensor
     * @param repeats       timed repeats of each variant
     * @param fused         {@link FusedDistances#compute(java.nio.ByteBuffer, int, java.nio.ByteBuffer, int, int)}
     *                      reading the tensors in place (the profiler's call; parallel for large inputs)
     * @param fusedOneThread the same kernel over the same chunks in sequence on the calling thread
     * @param torchL1       {@code b.sub(a).abs().mean()} (L1_MEAN only)
     * @param torchAll      the four metrics with plain torch ops (sub/abs/mean, abs/sum, dot, two norms)
     * @param maxRelDiff    largest relative difference between the fused and the torch metric values
     * @param fusedCores    median of process CPU time / wall time during {@code fused}: the cores it kept busy
     */
    public record Figures(int elements, int repeats, double fused, double fusedOneThread,
            double torchL1, double torchAll, double maxRelDiff, double fusedCores) {
    }

    /** Elements per call of the one-thread variant: below the kernel's parallel threshold (two chunks of 2^20). */
    private static final int SERIAL_SLICE = 1 << 20;

    private DistanceBenchmark() {
    }

    /** Runs the benchmark on two randn tensors of {@code elements} floats (seeds 1 and 2). */
    public static Figures run(int elements, int warmup, int repeats) {
        if (repeats < 1 || warmup < 0) {
            throw new IllegalArgumentException("repeats must be >= 1 and warmup >= 0, got " + repeats + ", " + warmup);
        }
        try (InferenceMode mode = new InferenceMode(); PointerScope outer = new PointerScope()) {
            Tensor a = randn(elements, 1);
            Tensor b = randn(elements, 2);
            ByteBuffer ba = bytes(a);
            ByteBuffer bb = bytes(b);

            double[] fusedValues = metrics(FusedDistances.compute(ba, 0, bb, 0, elements));
            double[] torchValues;
            try (PointerScope s = new PointerScope()) {
                torchValues = torchAll(a, b);
            }
            double maxRel = 0;
            for (int m = 0; m < fusedValues.length; m++) {
                maxRel = Math.max(maxRel, Math.abs(fusedValues[m] - torchValues[m]) / Math.abs(torchValues[m]));
            }

            Runnable[] variants = {
                () -> FusedDistances.compute(ba, 0, bb, 0, elements),
                () -> oneThread(ba, bb, elements),
                () -> {
                    try (PointerScope s = new PointerScope()) {
                        b.sub(a).abs().mean().item_double();
                    }
                },
                () -> {
                    try (PointerScope s = new PointerScope()) {
                        torchAll(a, b);
                    }
                },
            };
            double[][] ms = new double[variants.length][repeats];
            double[] cores = new double[repeats];
            for (int r = -warmup; r < repeats; r++) {
                for (int k = 0; k < variants.length; k++) {
                    int v = Math.floorMod(r + k, variants.length); // rotate the order so none always runs first
                    long c0 = BenchEnvironment.processCpuNanos();
                    long t0 = System.nanoTime();
                    variants[v].run();
                    long t1 = System.nanoTime();
                    long c1 = BenchEnvironment.processCpuNanos();
                    if (r >= 0) {
                        ms[v][r] = (t1 - t0) / 1e6;
                        if (v == 0) {
                            cores[r] = (c1 - c0) / (double) (t1 - t0);
                        }
                    }
                }
            }
            return new Figures(elements, repeats, BenchEnvironment.median(ms[0]), BenchEnvironment.median(ms[1]),
                    BenchEnvironment.median(ms[2]), BenchEnvironment.median(ms[3]),
                    maxRel, BenchEnvironment.median(cores));
        }
    }

    public static void main(String[] args) {
        int elements = args.length > 0 ? Integer.parseInt(args[0]) : 16 << 20;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 21;
        System.out.println("DistanceBenchmark: two float32 tensors of " + elements + " elements (randn, seeds 1 and 2)");
        System.out.println(BenchEnvironment.describe());
        Figures f = run(elements, 5, repeats);
        double mb = elements * (double) Float.BYTES / (1 << 20);
        double[] t = {f.fused(), f.fusedOneThread(), f.torchL1(), f.torchAll()};
        String[] bytes = {
            String.format(Locale.ROOT, "reads 2 x %.0f MB", mb),
            String.format(Locale.ROOT, "reads 2 x %.0f MB", mb),
            String.format(Locale.ROOT, "sub: reads 2 x %.0f MB, writes %.0f MB (new); abs: reads and writes %.0f MB"
                    + " (new); mean: reads %.0f MB", mb, mb, mb, mb),
            "the L1 chain plus abs(a)/sum, dot(a,b), norm(a), norm(b): at least 10 x " + String.format(Locale.ROOT,
                    "%.0f MB", mb),
        };
        double[] traffic = {2 * mb, 2 * mb, 6 * mb, 10 * mb};
        System.out.printf(Locale.ROOT, "median of %d repeats after 5 warm-up rounds, variants interleaved:%n", f.repeats());
        for (int v = 0; v < t.length; v++) {
            System.out.printf(Locale.ROOT, "  %-34s %8.2f ms  %6.1f GB/s  (%s)%n", NAMES[v], t[v],
                    traffic[v] / 1024 / (t[v] / 1000), bytes[v]);
        }
        System.out.printf(Locale.ROOT, "ratios: torch L1 / fused = %.1fx, torch 4 metrics / fused = %.1fx,"
                + " fused one thread / fused = %.2fx%n", f.torchL1() / f.fused(), f.torchAll() / f.fused(),
                f.fusedOneThread() / f.fused());
        System.out.printf(Locale.ROOT, "cores kept busy by the fused kernel (process CPU time / wall time) = %.2f%n",
                f.fusedCores());
        System.out.printf(Locale.ROOT, "agreement: largest relative difference fused vs torch over the 4 metrics = %.1e%n",
                f.maxRelDiff());
    }

    private static Tensor randn(int n, long seed) {
        return torch.randn(new long[] {n}, new GeneratorOptional(torch.createCPUGenerator(seed)),
                new TensorOptions(ScalarType.Float));
    }

    private static ByteBuffer bytes(Tensor t) {
        return t.data_ptr_float().capacity(t.numel()).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /** L1_MEAN, L1_REL, COSINE, NORM_RATIO with one torch op chain each (what one writes without a fused kernel). */
    private static double[] torchAll(Tensor a, Tensor b) {
        double l1 = b.sub(a).abs().mean().item_double();
        double absA = a.abs().sum().item_double();
        double dot = torch.dot(a, b).item_double();
        double na = a.norm().item_double();
        double nb = b.norm().item_double();
        return new double[] {l1, l1 * a.numel() / absA, 1 - dot / (na * nb), nb / na};
    }

    private static double[] metrics(DistanceSums s) {
        double[] v = new double[DistanceMetric.stepToStep().size()];
        for (DistanceMetric m : DistanceMetric.stepToStep()) {
            v[m.ordinal()] = s.value(m);
        }
        return v;
    }

    /** The fused kernel's chunks in sequence on this thread (each call is below the parallel threshold). */
    private static double oneThread(ByteBuffer a, ByteBuffer b, int n) {
        double sum = 0;
        for (int start = 0; start < n; start += SERIAL_SLICE) {
            sum += FusedDistances.compute(a, 4 * start, b, 4 * start, Math.min(SERIAL_SLICE, n - start)).sumAbsDiff();
        }
        return sum;
    }
}
