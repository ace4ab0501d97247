package io.ditcache.cuda;

import io.ditcache.backend.DistanceSums;
import io.ditcache.io.HalfFloats;
import io.ditcache.profile.FusedDistances;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The GPU check: every kernel path (packaged cubin, packaged PTX, NVRTC) against the kernels' order replayed on the
 * CPU (bit for bit), core's CPU backend and float64, on random data with odd sizes, unaligned sites, 1-4 samples
 * and many sites per launch, in float32, float16 and bfloat16; bitwise repeatability; the in-pass copy; then the
 * kernels' bandwidth against the device's measured copy bandwidth. Runs without libtorch (raw device pointers), so
 * it needs only a JRE, the javacpp and cuda jars, ditcache-core and this module.
 *
 * <p>{@code java io.ditcache.cuda.GpuCheck [--quick]}; exit status 0 when every check passed.
 */
public final class GpuCheck {
    private static final double TOLERANCE = 1e-6;
    private final PrintStream out;
    private int failures;

    private GpuCheck(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        boolean quick = Arrays.asList(args).contains("--quick");
        Driver.unavailable().ifPresent(why -> {
            System.out.println("ditcache-cuda GPU check: " + why);
            System.exit(2);
        });
        int failures = check(System.out, quick);
        System.out.println(failures == 0 ? "GPU CHECK PASSED" : "GPU CHECK FAILED: " + failures + " failure(s)");
        System.exit(failures == 0 ? 0 : 1);
    }

    /** Runs the whole check on device 0, printing as it goes; the number of failed checks. */
    static int check(PrintStream out, boolean quick) {
        GpuCheck check = new GpuCheck(out);
        check.run(quick);
        return check.failures;
    }

    private void run(boolean quick) {
        Driver.useDevice(0);
        int cc = Driver.computeCapability(0);
        out.printf(Locale.ROOT, "card: %s, compute capability %d.%d, %d multiprocessors%n", Driver.name(0), cc / 10,
                cc % 10, Driver.multiprocessors(0));
        out.println("packaged kernels: " + String.join(", ", KernelImages.packaged()));
        List<Case> cases = cases(quick);
        List<List<DistanceSums>> byPath = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        for (KernelImages.Image im : images(cc)) {
            DistanceKernels kernels;
            try {
                kernels = DistanceKernels.load(im);
            } catch (CudaException e) {
                out.println("path " + im.origin() + ": not loaded: " + e.getMessage());
                continue;
            }
            out.println("== correctness, " + im.origin());
            List<DistanceSums> first = correctness(kernels, cases, true);
            List<DistanceSums> again = correctness(kernels, cases, false);
            boolean same = bitwise(first, again);
            out.println("  bitwise identical across two runs: " + same);
            failures += same ? 0 : 1;
            byPath.add(first);
            paths.add(im.origin());
        }
        for (int i = 1; i < byPath.size(); i++) {
            boolean same = bitwise(byPath.get(0), byPath.get(i));
            out.println("same bits from " + paths.get(0) + " and " + paths.get(i) + ": " + same);
        }
        copyCheck();
        bandwidth(quick);
    }

    /** The cubin, the PTX and NVRTC's cubin for this device, each that can be had. */
    private List<KernelImages.Image> images(int cc) {
        List<KernelImages.Image> out = new ArrayList<>();
        String cubin = KernelImages.cubinFor(cc);
        if (cubin != null && KernelImages.resource(cubin) != null) {
            out.add(new KernelImages.Image("packaged cubin " + cubin, KernelImages.resource(cubin)));
        }
        byte[] ptx = KernelImages.resource("distances.compute_" + KernelImages.PTX + ".ptx");
        if (ptx != null) {
            byte[] z = Arrays.copyOf(ptx, ptx.length + 1);
            out.add(new KernelImages.Image("packaged PTX compute_" + KernelImages.PTX, z));
        }
        try {
            out.add(KernelImages.compiled(cc));
        } catch (CudaException e) {
            this.out.println("path NVRTC: not available: " + e.getMessage());
        }
        return out;
    }

    /** One random comparison set: sites of samples x perSample elements, a's sites shifted by an element offset. */
    private record Case(ElementType type, int sites, int samples, long perSample, int shift, long seed) {
    }

    private static List<Case> cases(boolean quick) {
        List<Case> out = new ArrayList<>();
        long seed = 20261130;
        for (ElementType t : ElementType.values()) {
            out.add(new Case(t, 1, 1, 1, 0, seed++));
            out.add(new Case(t, 3, 2, 8191, 0, seed++));
            out.add(new Case(t, 2, 4, 8192, 0, seed++));
            out.add(new Case(t, 2, 3, 8193, 1, seed++));
            out.add(new Case(t, 40, 2, 1000, 0, seed++));
            out.add(new Case(t, 5, 1, 3 * 8192 + 5, 3, seed++));
            out.add(new Case(t, 1, 4, quick ? 65536 : 1 << 20, 0, seed++));
            out.add(new Case(t, 1, 2, (quick ? 65536 : 1 << 20) + 13, 0, seed++));
        }
        return out;
    }

    /** Host data of one operand: elements of the type, little-endian, {@code shift} elements of padding first. */
    private static ByteBuffer randomData(SplittableRandom r, ElementType t, long n, int shift, double scale) {
        ByteBuffer b = ByteBuffer.allocateDirect((int) ((n + shift) * t.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n + shift; i++) {
            float v = (float) (scale * gaussian(r));
            switch (t) {
                case FLOAT32 -> b.putFloat(v);
                case FLOAT16 -> b.putShort(toHalf(v));
                case BFLOAT16 -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        return b.flip();
    }

    private static double gaussian(SplittableRandom r) {
        double u = Math.max(r.nextDouble(), 1e-300);
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** float32 to binary16 by round-to-nearest through the exact widening (values here are in half's range). */
    private static short toHalf(float v) {
        int best = 0;
        int lo = 0;
        int hi = 0x7bff;
        float a = Math.abs(v);
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (HalfFloats.float16((short) mid) < a) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        best = Math.min(lo, 0x7bff);
        if (best > 0 && a - HalfFloats.float16((short) (best - 1)) <= HalfFloats.float16((short) best) - a) {
            best--;
        }
        return (short) (best | (v < 0 ? 0x8000 : 0));
    }

    /**
     * Runs every case through the kernels (one launch per case, sites of a case in that launch), checks every result,
     * and returns them in order.
     */
    private List<DistanceSums> correctness(DistanceKernels kernels, List<Case> cases, boolean report) {
        List<DistanceSums> all = new ArrayList<>();
        double[] worst = new double[3];
        int[] counts = new int[3];
        int mismatchOrder = 0;
        int compared = 0;
        try (DeviceDistances d = new DeviceDistances(0, 0, kernels)) {
            for (Case c : cases) {
                SplittableRandom r = new SplittableRandom(c.seed);
                long n = c.samples * c.perSample;
                List<ByteBuffer> hostA = new ArrayList<>();
                List<ByteBuffer> hostB = new ArrayList<>();
                List<Long> device = new ArrayList<>();
                for (int s = 0; s < c.sites; s++) {
                    ByteBuffer a = randomData(r, c.type, n, c.shift, 1.0 + s);
                    ByteBuffer b = randomData(r, c.type, n, c.shift, 1.0 + s);
                    // b = a + a small step change, as consecutive denoising steps are
                    ByteBuffer near = near(a, b, c.type, n + c.shift);
                    hostA.add(a);
                    hostB.add(near);
                    device.add(upload(a));
                    device.add(upload(near));
                }
                for (int s = 0; s < c.sites; s++) {
                    for (int k = 0; k < c.samples; k++) {
                        long off = (c.shift + k * c.perSample) * c.type.bytes();
                        d.add(device.get(2 * s) + off, device.get(2 * s + 1) + off, c.perSample, c.type);
                    }
                }
                d.submit();
                List<DistanceSums> got = d.read();
                int i = 0;
                for (int s = 0; s < c.sites; s++) {
                    for (int k = 0; k < c.samples; k++) {
                        long first = c.shift + k * c.perSample;
                        long off = first * c.type.bytes();
                        boolean aligned = ((device.get(2 * s) + off) | (device.get(2 * s + 1) + off)) % 16 == 0;
                        ByteBuffer a = slice(hostA.get(s), off, c.perSample * c.type.bytes());
                        ByteBuffer b = slice(hostB.get(s), off, c.perSample * c.type.bytes());
                        DistanceSums g = got.get(i++);
                        all.add(g);
                        if (!report) {
                            continue;
                        }
                        DistanceSums order = KernelOrder.sums(a, b, c.perSample, c.type, aligned);
                        if (!bitwise(List.of(g), List.of(order))) {
                            mismatchOrder++;
                            if (mismatchOrder <= 3) {
                                out.println("  not the kernels' order: " + c + " site " + s + " sample " + k + ": gpu "
                                        + g + ", replay " + order);
                            }
                        }
                        DistanceSums cpu = cpuBackend(a, b, c.perSample, c.type);
                        DistanceSums exact = float64(a, b, c.perSample, c.type);
                        worst[0] = Math.max(worst[0], relative(g, cpu));
                        worst[1] = Math.max(worst[1], relative(g, exact));
                        worst[2] = Math.max(worst[2], relative(cpu, exact));
                        compared++;
                    }
                }
                for (long p : device) {
                    cudart.cuMemFree(p);
                }
            }
            if (report) {
                out.printf(Locale.ROOT, "  %d comparisons in %d launches; not bit-identical to the kernels' order "
                        + "replayed on the CPU: %d%n", compared, d.launches(), mismatchOrder);
                out.printf(Locale.ROOT, "  max relative error: vs core's CPU backend %.2e, vs float64 %.2e "
                        + "(CPU backend vs float64: %.2e)%n", worst[0], worst[1], worst[2]);
            }
        }
        if (report) {
            failures += mismatchOrder > 0 ? 1 : 0;
            failures += worst[1] > TOLERANCE ? 1 : 0;
        }
        return all;
    }

    /** a plus a tenth of b: a step-to-step change. */
    private static ByteBuffer near(ByteBuffer a, ByteBuffer b, ElementType t, long n) {
        ByteBuffer out = ByteBuffer.allocateDirect((int) (n * t.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = KernelOrder.element(a, i, t) + 0.1f * KernelOrder.element(b, i, t);
            switch (t) {
                case FLOAT32 -> out.putFloat(v);
                case FLOAT16 -> out.putShort(toHalf(v));
                case BFLOAT16 -> out.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        return out.flip();
    }

    private static ByteBuffer slice(ByteBuffer b, long offset, long bytes) {
        return b.duplicate().position((int) offset).limit((int) (offset + bytes)).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long upload(ByteBuffer host) {
        long[] p = new long[1];
        Driver.check(cudart.cuMemAlloc(p, Math.max(host.remaining(), 16)), "cuMemAlloc");
        Driver.check(cudart.cuMemcpyHtoD(p[0], new BytePointer(host), host.remaining()), "cuMemcpyHtoD");
        return p[0];
    }

    /** Core's CPU backend (the fused SIMD pass) over the operands widened to float32. */
    private static DistanceSums cpuBackend(ByteBuffer a, ByteBuffer b, long n, ElementType t) {
        float[] fa = new float[(int) n];
        float[] fb = new float[(int) n];
        for (int i = 0; i < n; i++) {
            fa[i] = KernelOrder.element(a, i, t);
            fb[i] = KernelOrder.element(b, i, t);
        }
        try (FloatPointer pa = new FloatPointer(fa); FloatPointer pb = new FloatPointer(fb)) {
            return FusedDistances.compute(pa, 0, pb, 0, n);
        }
    }

    private static DistanceSums float64(ByteBuffer a, ByteBuffer b, long n, ElementType t) {
        double d = 0;
        double sa = 0;
        double dot = 0;
        double qa = 0;
        double qb = 0;
        for (long i = 0; i < n; i++) {
            double x = KernelOrder.element(a, i, t);
            double y = KernelOrder.element(b, i, t);
            d += Math.abs(y - x);
            sa += Math.abs(x);
            dot += x * y;
            qa += x * x;
            qb += y * y;
        }
        return new DistanceSums(n, d, sa, dot, qa, qb);
    }

    /** The largest relative error of the five sums (the dot product relative to its Cauchy-Schwarz bound). */
    static double relative(DistanceSums x, DistanceSums ref) {
        double dotScale = Math.sqrt(ref.sumSqA() * ref.sumSqB());
        double[] got = {x.sumAbsDiff(), x.sumAbsA(), x.dot(), x.sumSqA(), x.sumSqB()};
        double[] want = {ref.sumAbsDiff(), ref.sumAbsA(), ref.dot(), ref.sumSqA(), ref.sumSqB()};
        double[] scale = {ref.sumAbsDiff(), ref.sumAbsA(), dotScale, ref.sumSqA(), ref.sumSqB()};
        double worst = x.n() == ref.n() ? 0 : Double.POSITIVE_INFINITY;
        for (int k = 0; k < 5; k++) {
            double e = Math.abs(got[k] - want[k]);
            worst = Math.max(worst, scale[k] == 0 ? e : e / scale[k]);
        }
        return worst;
    }

    private static boolean bitwise(List<DistanceSums> x, List<DistanceSums> y) {
        if (x.size() != y.size()) {
            return false;
        }
        for (int i = 0; i < x.size(); i++) {
            DistanceSums a = x.get(i);
            DistanceSums b = y.get(i);
            if (a.n() != b.n() || bits(a.sumAbsDiff()) != bits(b.sumAbsDiff()) || bits(a.sumAbsA()) != bits(b.sumAbsA())
                    || bits(a.dot()) != bits(b.dot()) || bits(a.sumSqA()) != bits(b.sumSqA())
                    || bits(a.sumSqB()) != bits(b.sumSqB())) {
                return false;
            }
        }
        return true;
    }

    private static long bits(double v) {
        return Double.doubleToRawLongBits(v);
    }

    /** The in-pass copy: b lands in copyTo byte for byte, with a's own position as the target too. */
    private void copyCheck() {
        int[] sizes = {1, 8191, 8192 * 3, 8192 * 3 + 7, 1 << 20};
        boolean ok = true;
        try (DeviceDistances d = new DeviceDistances(0, 0)) {
            SplittableRandom r = new SplittableRandom(7);
            for (ElementType t : ElementType.values()) {
                for (int n : sizes) {
                    ByteBuffer a = randomData(r, t, n, 0, 1);
                    ByteBuffer b = randomData(r, t, n, 0, 1);
                    long da = upload(a);
                    long db = upload(b);
                    long dc = upload(a);
                    d.add(da, db, n, t, dc);
                    d.add(dc, db, n, t, dc);
                    List<DistanceSums> s = d.read();
                    ByteBuffer back = ByteBuffer.allocateDirect(n * t.bytes());
                    Driver.check(cudart.cuMemcpyDtoH(new BytePointer(back), dc, (long) n * t.bytes()),
                            "cuMemcpyDtoH");
                    boolean same = back.equals(b.duplicate().rewind()) && bitwise(List.of(s.get(0)),
                            List.of(KernelOrder.sums(a, b, n, t, (da | db | dc) % 16 == 0)));
                    ok &= same;
                    for (long p : new long[] {da, db, dc}) {
                        cudart.cuMemFree(p);
                    }
                }
            }
        }
        out.println("== copy of b in the same pass: " + (ok ? "exact" : "WRONG"));
        failures += ok ? 0 : 1;
    }

    /** GB/s of the kernels against the device's copy bandwidth (bytes read + written per second). */
    private void bandwidth(boolean quick) {
        out.println("== bandwidth (GB/s = bytes read + written / time; min over repeats, CUDA events)");
        out.printf(Locale.ROOT, "%-14s %-10s %-9s %-7s %10s %10s %8s %8s%n", "card", "size", "dtype", "sites",
                "kernel", "copy", "% copy", "repeats");
        String card = Driver.name(0).replace("NVIDIA ", "");
        long[] sizes = quick ? new long[] {64L << 20} : new long[] {16L << 20, 64L << 20, 256L << 20, 1L << 30};
        int repeats = quick ? 5 : 20;
        try (DeviceDistances d = new DeviceDistances(0, 0)) {
            for (long bytes : sizes) {
                long a = alloc(bytes);
                long b = alloc(bytes);
                long c = alloc(bytes);
                cudart.cuMemsetD8(a, (byte) 0x3c, bytes);
                cudart.cuMemsetD8(b, (byte) 0x3b, bytes);
                double copy = timeCopy(c, a, bytes, repeats);
                double copyGbs = 2.0 * bytes / copy / 1e9;
                for (ElementType t : ElementType.values()) {
                    long n = bytes / t.bytes();
                    for (int sites : new int[] {1, 64}) {
                        double k = timeKernels(d, a, b, 0, n, t, sites, repeats);
                        double gbs = 2.0 * bytes / k / 1e9;
                        out.printf(Locale.ROOT, "%-14s %-10s %-9s %-7s %10.0f %10.0f %7.1f%% %8d%n", card,
                                mib(bytes), t.name().toLowerCase(Locale.ROOT), sites, gbs, copyGbs,
                                100 * gbs / copyGbs, repeats);
                    }
                    double kc = timeKernels(d, a, b, c, n, t, 1, repeats);
                    double gbsc = 3.0 * bytes / kc / 1e9;
                    out.printf(Locale.ROOT, "%-14s %-10s %-9s %-7s %10.0f %10.0f %7.1f%% %8d%n", card, mib(bytes),
                            t.name().toLowerCase(Locale.ROOT), "1+copy", gbsc, copyGbs, 100 * gbsc / copyGbs,
                            repeats);
                }
                d.read();
                for (long p : new long[] {a, b, c}) {
                    cudart.cuMemFree(p);
                }
            }
        }
    }

    private static String mib(long bytes) {
        return bytes >= 1L << 30 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
    }

    private static long alloc(long bytes) {
        long[] p = new long[1];
        Driver.check(cudart.cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + ")");
        return p[0];
    }

    /** Seconds of the fastest device-to-device copy of {@code bytes}. */
    private static double timeCopy(long to, long from, long bytes, int repeats) {
        CUstream_st stream = new CUstream_st(DeviceDistances.address(0));
        return time(repeats, () -> Driver.check(cudart.cuMemcpyDtoDAsync(to, from, bytes, stream),
                "cuMemcpyDtoDAsync"));
    }

    /** Seconds of the fastest launch comparing {@code n} elements split over {@code sites} pairs. */
    private static double timeKernels(DeviceDistances d, long a, long b, long copyTo, long n, ElementType t,
            int sites, int repeats) {
        long per = n / sites;
        return time(repeats, () -> {
            for (int s = 0; s < sites; s++) {
                long off = s * per * t.bytes();
                d.add(a + off, b + off, per, t, copyTo == 0 ? 0 : copyTo + off);
            }
            d.submit();
        });
    }

    private static double time(int repeats, Runnable work) {
        CUstream_st stream = new CUstream_st(DeviceDistances.address(0));
        CUevent_st start = new CUevent_st();
        CUevent_st end = new CUevent_st();
        Driver.check(cudart.cuEventCreate(start, cudart.CU_EVENT_DEFAULT), "cuEventCreate");
        Driver.check(cudart.cuEventCreate(end, cudart.CU_EVENT_DEFAULT), "cuEventCreate");
        work.run(); // warm-up
        double best = Double.MAX_VALUE;
        float[] ms = new float[1];
        for (int i = 0; i < repeats; i++) {
            Driver.check(cudart.cuEventRecord(start, stream), "cuEventRecord");
            work.run();
            Driver.check(cudart.cuEventRecord(end, stream), "cuEventRecord");
            Driver.check(cudart.cuEventSynchronize(end), "cuEventSynchronize");
            Driver.check(cudart.cuEventElapsedTime(ms, start, end), "cuEventElapsedTime");
            best = Math.min(best, ms[0] / 1e3);
        }
        cudart.cuEventDestroy(start);
        cudart.cuEventDestroy(end);
        return best;
    }
}
