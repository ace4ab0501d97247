package io.ditcache.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.backend.DistanceSums;
import io.ditcache.io.HalfFloats;
import io.ditcache.profile.FusedDistances;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The kernels' order replayed on the CPU (what the GPU check holds the kernels to, bit for bit) agrees with core's
 * CPU backend and with float64 on odd sizes around the chunk boundaries, in both load paths and every type: the
 * chunking, the tails, the half widenings and the reduction trees are right.
 */
class KernelOrderTest {

    @ParameterizedTest
    @CsvSource({"FLOAT32,1", "FLOAT32,255", "FLOAT32,8191", "FLOAT32,8192", "FLOAT32,8193", "FLOAT32,40965",
        "FLOAT32,2000000", "FLOAT16,1", "FLOAT16,8193", "FLOAT16,40960", "BFLOAT16,7", "BFLOAT16,8192",
        "BFLOAT16,99999"})
    void agreesWithCpuBackendAndFloat64(ElementType type, int n) {
        SplittableRandom r = new SplittableRandom(n * 31L + type.ordinal());
        ByteBuffer a = data(r, type, n, 0);
        ByteBuffer b = nearby(r, a, type, n);
        DistanceSums exact = float64(a, b, type, n);
        DistanceSums cpu = cpu(a, b, type, n);
        for (boolean aligned : new boolean[] {true, false}) {
            DistanceSums k = KernelOrder.sums(a, b, n, type, aligned);
            assertEquals(n, k.n());
            double e = GpuCheck.relative(k, exact);
            assertTrue(e <= 1e-6, type + " n=" + n + " aligned=" + aligned + ": relative error " + e
                    + " vs float64; kernel order " + k + ", float64 " + exact);
            assertTrue(GpuCheck.relative(k, cpu) <= 2e-6, "vs core's CPU backend " + cpu + ": " + k);
        }
    }

    @ParameterizedTest
    @CsvSource({"FLOAT32", "FLOAT16", "BFLOAT16"})
    void theTwoLoadPathsAddInTheirOwnOrderButAgree(ElementType type) {
        int n = 3 * LaunchPlan.CHUNK;
        SplittableRandom r = new SplittableRandom(5);
        ByteBuffer a = data(r, type, n, 0);
        ByteBuffer b = nearby(r, a, type, n);
        DistanceSums vec = KernelOrder.sums(a, b, n, type, true);
        DistanceSums scalar = KernelOrder.sums(a, b, n, type, false);
        assertTrue(GpuCheck.relative(vec, scalar) < 1e-6, vec + " vs " + scalar);
    }

    @org.junit.jupiter.api.Test
    void emptyComparisonIsZero() {
        ByteBuffer empty = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        DistanceSums s = KernelOrder.sums(empty, empty, 0, ElementType.FLOAT32, true);
        assertEquals(new DistanceSums(0, 0, 0, 0, 0, 0), s);
    }

    @org.junit.jupiter.api.Test
    void halfWideningsAreExact() {
        ByteBuffer h = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) 0x3c00).putShort((short) 0xc000).putShort((short) 0x0001).putShort((short) 0x7bff);
        assertEquals(1.0f, KernelOrder.element(h, 0, ElementType.FLOAT16));
        assertEquals(-2.0f, KernelOrder.element(h, 1, ElementType.FLOAT16));
        assertEquals(0x1p-24f, KernelOrder.element(h, 2, ElementType.FLOAT16));
        assertEquals(65504f, KernelOrder.element(h, 3, ElementType.FLOAT16));
        ByteBuffer bf = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3fc0);
        assertEquals(1.5f, KernelOrder.element(bf, 0, ElementType.BFLOAT16));
        assertEquals(HalfFloats.float16((short) 0x3555), KernelOrder.element(ByteBuffer.allocate(2)
                .order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3555), 0, ElementType.FLOAT16));
    }

    static ByteBuffer data(SplittableRandom r, ElementType type, int n, int shift) {
        ByteBuffer b = ByteBuffer.allocate((n + shift) * type.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n + shift; i++) {
            put(b, type, (float) (r.nextDouble() * 4 - 2));
        }
        return b.flip();
    }

    static ByteBuffer nearby(SplittableRandom r, ByteBuffer a, ElementType type, int n) {
        ByteBuffer b = ByteBuffer.allocate(n * type.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            put(b, type, KernelOrder.element(a, i, type) + (float) (r.nextDouble() * 0.2 - 0.1));
        }
        return b.flip();
    }

    private static void put(ByteBuffer b, ElementType type, float v) {
        switch (type) {
            case FLOAT32 -> b.putFloat(v);
            // truncation is fine here: any bits are a valid input
            case FLOAT16 -> b.putShort(half(v));
            case BFLOAT16 -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        }
    }

    /** A binary16 near v (|v| < 4): sign, exponent and the top ten mantissa bits. */
    private static short half(float v) {
        int bits = Float.floatToRawIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        if (exp <= 0) {
            return (short) sign;
        }
        return (short) (sign | (exp << 10) | ((bits >>> 13) & 0x3ff));
    }

    static DistanceSums float64(ByteBuffer a, ByteBuffer b, ElementType t, long n) {
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

    static DistanceSums cpu(ByteBuffer a, ByteBuffer b, ElementType t, int n) {
        float[] fa = new float[n];
        float[] fb = new float[n];
        for (int i = 0; i < n; i++) {
            fa[i] = KernelOrder.element(a, i, t);
            fb[i] = KernelOrder.element(b, i, t);
        }
        try (FloatPointer pa = new FloatPointer(fa); FloatPointer pb = new FloatPointer(fb)) {
            return FusedDistances.compute(pa, 0, pb, 0, n);
        }
    }
}
