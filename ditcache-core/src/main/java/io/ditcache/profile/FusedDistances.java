package io.ditcache.profile;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.ditcache.backend.DistanceSums;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.bytedeco.javacpp.FloatPointer;
import org.slf4j.LoggerFactory;

/**
 * The CPU distance kernel: one read-only pass over two float32 arrays in native memory, five double sums, no
 * temporaries. With {@code --add-modules jdk.incubator.vector} it runs {@link VectorDistances} (SIMD, reading in
 * place); otherwise a scalar loop. Large ranges are split into fixed chunks summed in a fixed order, so results
 * do not depend on thread scheduling.
 */
public final class FusedDistances {
    /** Elements per parallel chunk; ranges shorter than two chunks run on the calling thread. */
    static final int CHUNK = 1 << 20;
    /**
     * Elements the scalar loop copies at a time into heap arrays: a loop over {@code float[]} runs about twice as
     * fast as one over direct-buffer reads (bounds checks are hoisted), and 2 x 8 KB stay in the L1 cache.
     */
    static final int BLOCK = 2048;
    /**
     * System property that chooses the kernel: {@code scalar} forces the scalar loop (CI runs the suite once that
     * way, so that no test passes only with the SIMD kernel); unset or {@code auto}, the SIMD kernel runs when
     * its module is present.
     */
    public static final String KERNEL_PROPERTY = "ditcache.distance.kernel";
    /**
     * Whether {@link VectorDistances} runs: the JVM was started with {@code --add-modules jdk.incubator.vector}
     * and {@link #KERNEL_PROPERTY} does not ask for the scalar loop.
     */
    static final boolean VECTOR = vectorKernel(System.getProperty(KERNEL_PROPERTY, "auto"),
            ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && byteBufferLoads());
    /**
     * Whether {@link Math#fma} is a CPU instruction here. A float product is exact in double, so {@code fma(a, b, s)}
     * and {@code s + a * b} give the same bits; fma is one instruction instead of two, but without hardware support
     * it is a slow software routine.
     */
    private static final boolean FMA = hardwareFma();

    static {
        if (!VECTOR && !"scalar".equals(System.getProperty(KERNEL_PROPERTY))) {
            LoggerFactory.getLogger(FusedDistances.class).info(
                    ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                            ? "distance kernel: scalar loop; this JDK's jdk.incubator.vector no longer loads vectors "
                                    + "from byte buffers (JDK 20 and later), which the SIMD kernel needs (JDK 17 to 19)"
                            : "distance kernel: scalar loop; start the JVM with --add-modules jdk.incubator.vector "
                                    + "for the SIMD kernel (about 3x faster)");
        }
    }

    private FusedDistances() {
    }

    /**
     * Sums over {@code length} floats stored at byte offsets {@code aOffset} of {@code a} and {@code bOffset} of
     * {@code b}, in the platform's byte order (buffer positions and order settings are ignored).
     */
    public static DistanceSums compute(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset, int length) {
        if (length < 2 * CHUNK) {
            return chunk(a, aOffset, b, bOffset, length);
        }
        int chunks = (length + CHUNK - 1) / CHUNK;
        // A parallel stream lets the calling thread work beside the common pool's workers (on 2 cores the pool
        // has one worker). toArray keeps the chunk order, and the sums are added in that order.
        DistanceSums[] parts = IntStream.range(0, chunks).parallel()
                .mapToObj(c -> chunk(a, aOffset + 4 * c * CHUNK, b, bOffset + 4 * c * CHUNK,
                        Math.min(CHUNK, length - c * CHUNK)))
                .toArray(DistanceSums[]::new);
        DistanceSums total = new DistanceSums(0, 0, 0, 0, 0, 0);
        for (DistanceSums p : parts) {
            total = total.plus(p);
        }
        return total;
    }

    /**
     * Sums over {@code length} floats at element offsets {@code aOffset} of {@code a} and {@code bOffset} of
     * {@code b} (from each pointer's address; positions are ignored): 64-bit offsets and lengths, so ranges beyond 2 GiB are fine.
     * Chunks and their summation order are those of {@link #compute(ByteBuffer, int, ByteBuffer, int, int)}, so
     * both give the same bits for the same range.
     */
    public static DistanceSums compute(FloatPointer a, long aOffset, FloatPointer b, long bOffset, long length) {
        if (length < 2L * CHUNK) {
            int n = (int) length;
            return chunk(window(a, aOffset, n), 0, window(b, bOffset, n), 0, n);
        }
        long chunks = (length + CHUNK - 1) / CHUNK;
        DistanceSums[] parts = LongStream.range(0, chunks).parallel()
                .mapToObj(c -> {
                    int n = (int) Math.min(CHUNK, length - c * CHUNK);
                    return chunk(window(a, aOffset + c * CHUNK, n), 0, window(b, bOffset + c * CHUNK, n), 0, n);
                })
                .toArray(DistanceSums[]::new);
        DistanceSums total = new DistanceSums(0, 0, 0, 0, 0, 0);
        for (DistanceSums p : parts) {
            total = total.plus(p);
        }
        return total;
    }

    /**
     * Queues the sums of {@code count} row pairs of one tensor pair into {@code out}: row {@code r} is
     * {@code length} floats at element offset {@code aOffsets[r]} of {@code a} ({@code aNumel} floats from its
     * address) and {@code bOffsets[r]} of {@code b}. Each row gets the bits {@link #compute(FloatPointer, long,
     * FloatPointer, long, long)} gives it; with the SIMD kernel, rows of tensors under 2 GiB are read through one
     * buffer per tensor and nothing is allocated per row. Ranges must have been checked.
     */
    static void computeRows(FloatPointer a, long aNumel, long[] aOffsets, FloatPointer b, long bNumel,
            long[] bOffsets, int count, long length, SumsQueue out) {
        if (!VECTOR || length >= 2L * CHUNK || aNumel > Integer.MAX_VALUE / 4 || bNumel > Integer.MAX_VALUE / 4) {
            for (int r = 0; r < count; r++) {
                out.add(compute(a, aOffsets[r], b, bOffsets[r], length));
            }
            return;
        }
        ByteBuffer ba = window(a, 0, (int) aNumel);
        ByteBuffer bb = window(b, 0, (int) bNumel);
        int n = (int) length;
        for (int r = 0; r < count; r++) {
            int at = out.claim(n);
            VectorDistances.directInto(ba, (int) (4 * aOffsets[r]), bb, (int) (4 * bOffsets[r]), n, out.values(),
                    at);
        }
    }

    /**
     * A byte buffer over {@code n} floats at element offset {@code offset} from {@code p}'s address. (A direct
     * buffer starts at its pointer's address whatever the position, and holds at most 2 GiB: so the window gets an
     * address of its own.)
     */
    static ByteBuffer window(FloatPointer p, long offset, int n) {
        FloatPointer w = p.getPointer(offset);
        w.position(0).capacity(n).limit(n);
        return w.asByteBuffer();
    }

    /** One thread over one range: the SIMD kernel when available, else the scalar loop. */
    static DistanceSums chunk(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset, int length) {
        return VECTOR ? VectorDistances.direct(a, aOffset, b, bOffset, length)
                : scalar(floats(a, aOffset, length), floats(b, bOffset, length), length);
    }

    private static FloatBuffer floats(ByteBuffer bytes, int offset, int length) {
        return bytes.duplicate().position(offset).limit(offset + 4 * length).slice().order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /** The scalar loop: block by block through heap copies, two accumulators per sum. */
    static DistanceSums scalar(FloatBuffer a, FloatBuffer b, int length) {
        return scalar(a, null, b, null, length);
    }

    /**
     * The scalar loop over {@code a - aIn} against {@code b - bIn} where the inputs are given (both or neither):
     * the differences are taken in float, block by block, so a residual gets the bits its stored copy would.
     */
    private static DistanceSums scalar(FloatBuffer a, FloatBuffer aIn, FloatBuffer b, FloatBuffer bIn, int length) {
        int size = Math.min(BLOCK, length);
        float[] x = new float[size];
        float[] y = new float[size];
        float[] in = aIn == null ? null : new float[size];
        double d0 = 0, d1 = 0, abs0 = 0, abs1 = 0, dot0 = 0, dot1 = 0, aa0 = 0, aa1 = 0, bb0 = 0, bb1 = 0;
        for (int base = 0; base < length; base += size) {
            int n = Math.min(size, length - base);
            a.get(base, x, 0, n);
            b.get(base, y, 0, n);
            if (in != null) {
                subtract(x, aIn, base, in, n);
                subtract(y, bIn, base, in, n);
            }
            int i = 0;
            for (; i + 1 < n; i += 2) {
                double a0 = x[i];
                double b0 = y[i];
                double a1 = x[i + 1];
                double b1 = y[i + 1];
                d0 += Math.abs(b0 - a0);
                d1 += Math.abs(b1 - a1);
                abs0 += Math.abs(a0);
                abs1 += Math.abs(a1);
                dot0 = FMA ? Math.fma(a0, b0, dot0) : dot0 + a0 * b0;
                dot1 = FMA ? Math.fma(a1, b1, dot1) : dot1 + a1 * b1;
                aa0 = FMA ? Math.fma(a0, a0, aa0) : aa0 + a0 * a0;
                aa1 = FMA ? Math.fma(a1, a1, aa1) : aa1 + a1 * a1;
                bb0 = FMA ? Math.fma(b0, b0, bb0) : bb0 + b0 * b0;
                bb1 = FMA ? Math.fma(b1, b1, bb1) : bb1 + b1 * b1;
            }
            if (i < n) {
                double a0 = x[i];
                double b0 = y[i];
                d0 += Math.abs(b0 - a0);
                abs0 += Math.abs(a0);
                dot0 = FMA ? Math.fma(a0, b0, dot0) : dot0 + a0 * b0;
                aa0 = FMA ? Math.fma(a0, a0, aa0) : aa0 + a0 * a0;
                bb0 = FMA ? Math.fma(b0, b0, bb0) : bb0 + b0 * b0;
            }
        }
        return new DistanceSums(length, d0 + d1, abs0 + abs1, dot0 + dot1, aa0 + aa1, bb0 + bb1);
    }

    /** {@code x[k] -= in[base + k]} for {@code k < n}, in float, through {@code scratch}. */
    private static void subtract(float[] x, FloatBuffer in, int base, float[] scratch, int n) {
        in.get(base, scratch, 0, n);
        for (int k = 0; k < n; k++) {
            x[k] -= scratch[k];
        }
    }

    /**
     * Whether {@link #computeResidualRows} takes rows of {@code length} floats of a tensor of {@code numel}: rows
     * under two chunks, tensors under 2 GiB (larger ones are summed chunk by chunk, from a stored residual).
     */
    static boolean takesResiduals(long numel, long length) {
        return length < 2L * CHUNK && numel <= Integer.MAX_VALUE / 4;
    }

    /**
     * As {@link #computeRows} over two blocks' residuals, {@code aOut - aIn} against {@code bOut - bIn}, without
     * storing them: each input has its output's size and row offsets. Each row gets the bits {@link #computeRows}
     * gives the stored residuals (libtorch's {@code sub} rounds each difference to float, and so does this). Sizes
     * must be ones {@link #takesResiduals} takes, and ranges must have been checked.
     */
    static void computeResidualRows(FloatPointer aOut, FloatPointer aIn, long aNumel, long[] aOffsets,
            FloatPointer bOut, FloatPointer bIn, long bNumel, long[] bOffsets, int count, long length,
            SumsQueue out) {
        int n = (int) length;
        if (!VECTOR) {
            for (int r = 0; r < count; r++) {
                out.add(scalar(floats(window(aOut, aOffsets[r], n), 0, n), floats(window(aIn, aOffsets[r], n), 0, n),
                        floats(window(bOut, bOffsets[r], n), 0, n), floats(window(bIn, bOffsets[r], n), 0, n), n));
            }
            return;
        }
        ByteBuffer ao = window(aOut, 0, (int) aNumel);
        ByteBuffer ai = window(aIn, 0, (int) aNumel);
        ByteBuffer bo = window(bOut, 0, (int) bNumel);
        ByteBuffer bi = window(bIn, 0, (int) bNumel);
        for (int r = 0; r < count; r++) {
            int at = out.claim(n);
            VectorDistances.residualInto(ao, ai, (int) (4 * aOffsets[r]), bo, bi, (int) (4 * bOffsets[r]), n,
                    out.values(), at);
        }
    }

    /**
     * The kernel for a value of {@link #KERNEL_PROPERTY}.
     *
     * @throws IllegalArgumentException for a value other than {@code auto} or {@code scalar}
     */
    static boolean vectorKernel(String property, boolean modulePresent) {
        return switch (property) {
            case "auto" -> modulePresent;
            case "scalar" -> false;
            default -> throw new IllegalArgumentException("system property " + KERNEL_PROPERTY + " = '" + property
                    + "': expected auto or scalar");
        };
    }

    /**
     * Whether the incubating Vector API loads vectors from byte buffers, as {@link VectorDistances} does: JDK 17 to 19
     * do; JDK 20 and later replaced those methods with memory-segment ones, and calling them would fail with
     * {@link NoSuchMethodError} mid-run.
     */
    private static boolean byteBufferLoads() {
        try {
            Class<?> floats = Class.forName("jdk.incubator.vector.FloatVector");
            floats.getMethod("fromByteBuffer", Class.forName("jdk.incubator.vector.VectorSpecies"), ByteBuffer.class,
                    int.class, ByteOrder.class);
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }

    private static boolean hardwareFma() {
        boolean fma;
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            fma = vm != null && Boolean.parseBoolean(vm.getVMOption("UseFMA").getValue());
        } catch (RuntimeException | LinkageError e) { // not HotSpot, no such flag, or no jdk.management module
            fma = false;
        }
        LoggerFactory.getLogger(FusedDistances.class).debug("distance kernel uses {}", fma ? "fma" : "mul + add");
        return fma;
    }
}
