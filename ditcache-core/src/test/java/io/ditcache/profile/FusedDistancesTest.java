package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.backend.DistanceSums;
import io.ditcache.internal.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The fused kernel (SIMD and scalar) against the plain reference, element for element. */
class FusedDistancesTest {

    /** Native memory holding {@code skip} zero floats and then {@code v}. */
    static ByteBuffer direct(float[] v, int skip) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * (v.length + skip)).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(skip, v);
        return b;
    }

    static DistanceSums compute(float[] a, float[] b) {
        return FusedDistances.compute(direct(a, 0), 0, direct(b, 0), 0, a.length);
    }

    static float[] random(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    private static void assertMatchesReference(DistanceSums s, float[] a, float[] b, String what) {
        assertEquals(a.length, s.n(), what);
        for (DistanceMetric m : DistanceMetric.stepToStep()) {
            double want = ReferenceDistances.value(m, a, b);
            assertEquals(want, s.value(m), 1e-9 * Math.abs(want) + 1e-12, m + " " + what);
        }
    }

    @Test
    void matchesReferenceForEveryMetricSerialAndParallel() {
        Random r = new Random(1);
        for (int n : new int[] {1, 2, 3, 1001, 6272, 2 * FusedDistances.CHUNK + 12345}) {
            float[] a = random(r, n, 1.0);
            float[] b = a.clone();
            for (int i = 0; i < n; i++) {
                b[i] += (float) (0.1 * r.nextGaussian());
            }
            assertMatchesReference(compute(a, b), a, b, "n=" + n);
        }
    }

    @Test
    void simdAndScalarKernelsBothMatchTheReference() {
        // Both kernels are called directly, whichever one the property chose for this JVM.
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "the build runs tests with --add-modules jdk.incubator.vector");
        Random r = new Random(11);
        for (int n : new int[] {1, 15, 17, 255, 257, 4099, 100_003}) {
            float[] a = random(r, n, 3.0);
            float[] b = random(r, n, 3.0);
            ByteBuffer ba = direct(a, 3);
            ByteBuffer bb = direct(b, 11);
            assertMatchesReference(VectorDistances.direct(ba, 12, bb, 44, n), a, b, "simd n=" + n);
            assertMatchesReference(FusedDistances.scalar(ba.duplicate().position(12).slice().order(
                    ByteOrder.nativeOrder()).asFloatBuffer(), bb.duplicate().position(44).slice().order(
                    ByteOrder.nativeOrder()).asFloatBuffer(), n), a, b, "scalar n=" + n);
        }
    }

    @Test
    void nearlyEqualActivationsKeepTheirCosinePrecision() {
        Random r = new Random(5);
        float[] a = random(r, 50_000, 1.0);
        float[] b = a.clone();
        for (int i = 0; i < b.length; i++) {
            b[i] += (float) (1e-3 * r.nextGaussian());
        }
        double want = ReferenceDistances.value(DistanceMetric.COSINE, a, b);
        assertTrue(want < 1e-5, "a tiny distance: " + want);
        assertEquals(want, compute(a, b).value(DistanceMetric.COSINE), 1e-6 * want);
    }

    @Test
    void parallelSumsEqualTheChunksAddedInOrder() {
        Random r = new Random(4);
        int n = 3 * FusedDistances.CHUNK + 777;
        ByteBuffer a = direct(random(r, n, 1.0), 0);
        ByteBuffer b = direct(random(r, n, 1.0), 0);
        DistanceSums inOrder = new DistanceSums(0, 0, 0, 0, 0, 0);
        for (int start = 0; start < n; start += FusedDistances.CHUNK) {
            inOrder = inOrder.plus(FusedDistances.chunk(a, 4 * start, b, 4 * start,
                    Math.min(FusedDistances.CHUNK, n - start)));
        }
        for (int run = 0; run < 3; run++) {
            assertEquals(inOrder, FusedDistances.compute(a, 0, b, 0, n), "run " + run);
        }
    }

    @Test
    void offsetsSelectTheRange() {
        float[] a = {100, 1, 2, 100};
        float[] b = {-100, -100, 2, 4, -100};
        DistanceSums s = FusedDistances.compute(direct(a, 0), 4, direct(b, 0), 8, 2);
        assertEquals(1.5, s.value(DistanceMetric.L1_MEAN), 1e-12);
        assertEquals(1.0, s.value(DistanceMetric.L1_REL), 1e-12);
        assertEquals(0.0, s.value(DistanceMetric.COSINE), 1e-12);
        assertEquals(2.0, s.value(DistanceMetric.NORM_RATIO), 1e-12);
    }

    @Test
    void nonFiniteElementMakesEveryMetricNaN() {
        float[] a = {1, Float.POSITIVE_INFINITY, 3};
        float[] b = {1, 2, 3};
        DistanceSums s = compute(a, b);
        assertTrue(s.nonFinite());
        for (DistanceMetric m : DistanceMetric.stepToStep()) {
            assertTrue(Double.isNaN(s.value(m)), m.name());
        }
        assertTrue(compute(new float[] {1, Float.NaN, 3}, b).nonFinite());
        float[] wide = random(new Random(6), 1000, 1);
        wide[517] = Float.NaN;
        assertTrue(compute(wide, random(new Random(7), 1000, 1)).nonFinite(), "NaN inside the SIMD loop");
    }

    @Test
    void agreesWithTorchOpsOnTheSameTensors() {
        Random r = new Random(3);
        float[] a = random(r, 4096, 2);
        float[] b = random(r, 4096, 2);
        Tensor ta = Tensors.fromFloats(a, 4096);
        Tensor tb = Tensors.fromFloats(b, 4096);
        double torchL1 = tb.sub(ta).abs().mean().item_double();
        DistanceSums s = FusedDistances.compute(ta.data_ptr_float().capacity(4096).asByteBuffer(), 0,
                tb.data_ptr_float().capacity(4096).asByteBuffer(), 0, 4096);
        assertEquals(torchL1, s.value(DistanceMetric.L1_MEAN), 1e-6 * torchL1);
    }

    @Test
    void kernelPropertyForcesTheScalarLoopAndRefusesUnknownValues() {
        assertTrue(FusedDistances.vectorKernel("auto", true));
        assertFalse(FusedDistances.vectorKernel("auto", false));
        assertFalse(FusedDistances.vectorKernel("scalar", true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FusedDistances.vectorKernel("avx", true));
        assertTrue(e.getMessage().contains("ditcache.distance.kernel = 'avx'"), e.getMessage());
        assertEquals("scalar".equals(System.getProperty(FusedDistances.KERNEL_PROPERTY)) ? false
                : ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), FusedDistances.VECTOR,
                "the kernel this JVM runs");
    }

    /** Every row of one tensor pair in one call gives each row's bits of the one-range form, in order. */
    @Test
    void rowsInOneCallGiveTheBitsOfOneCallPerRow() {
        Random r = new Random(3);
        int rows = 7;
        int perRow = 1153;
        try (PointerScope scope = new PointerScope()) {
            Tensor a = Tensors.fromFloats(random(r, rows * perRow, 2.0), rows, perRow);
            Tensor b = Tensors.fromFloats(random(r, rows * perRow, 2.0), rows, perRow);
            long[] ao = {6L * perRow, 0, 3L * perRow, 5L * perRow + 17};
            long[] bo = {0, 6L * perRow, 3L * perRow, 1L * perRow + 5};
            SumsQueue queue = new SumsQueue();
            queue.add(new DistanceSums(1, 2, 3, 4, 5, 6)); // an earlier result stays first
            FusedDistances.computeRows(a.data_ptr_float(), a.numel(), ao, b.data_ptr_float(), b.numel(), bo, 4,
                    perRow - 17, queue);
            java.util.List<DistanceSums> got = queue.drain();
            assertEquals(5, got.size());
            assertEquals(new DistanceSums(1, 2, 3, 4, 5, 6), got.get(0));
            for (int i = 0; i < 4; i++) {
                assertEquals(FusedDistances.compute(a.data_ptr_float(), ao[i], b.data_ptr_float(), bo[i],
                        perRow - 17), got.get(i + 1), "row " + i);
            }
            assertEquals(0, queue.drain().size(), "drained");
        }
    }

    /** Residuals taken from outputs and inputs give the bits of the stored residuals (libtorch's sub), tails too. */
    @Test
    void residualRowsGiveTheBitsOfStoredResiduals() {
        Random r = new Random(11);
        int rows = 5;
        for (int perRow : new int[] {7, 1153, FusedDistances.BLOCK + 13}) {
            try (PointerScope scope = new PointerScope()) {
                Tensor aOut = Tensors.fromFloats(random(r, rows * perRow, 2.0), rows, perRow);
                Tensor aIn = Tensors.fromFloats(random(r, rows * perRow, 2.0), rows, perRow);
                Tensor bOut = Tensors.fromFloats(random(r, rows * perRow, 2.0), rows, perRow);
                // inputs close to their outputs: the differences are not exact in float
                Tensor bIn = bOut.add(Tensors.fromFloats(random(r, rows * perRow, 1e-3), rows, perRow));
                Tensor a = aOut.sub(aIn);
                Tensor b = bOut.sub(bIn);
                long[] ao = {4L * perRow, 0, 2L * perRow};
                long[] bo = {0, 4L * perRow, 2L * perRow};
                SumsQueue stored = new SumsQueue();
                FusedDistances.computeRows(a.data_ptr_float(), a.numel(), ao, b.data_ptr_float(), b.numel(), bo, 3,
                        perRow, stored);
                SumsQueue taken = new SumsQueue();
                assertTrue(FusedDistances.takesResiduals(aOut.numel(), perRow));
                FusedDistances.computeResidualRows(aOut.data_ptr_float(), aIn.data_ptr_float(), aOut.numel(), ao,
                        bOut.data_ptr_float(), bIn.data_ptr_float(), bOut.numel(), bo, 3, perRow, taken);
                assertEquals(stored.drain(), taken.drain(), "rows of " + perRow);
            }
        }
        assertFalse(FusedDistances.takesResiduals(10, 2L * FusedDistances.CHUNK), "rows summed chunk by chunk");
        assertFalse(FusedDistances.takesResiduals(1L << 30, 10), "over 2 GiB");
    }

    @Test
    void pointerFormWithLongOffsetsGivesTheBufferFormsBits() {
        Random r = new Random(5);
        int n = 2 * FusedDistances.CHUNK + 4321;
        float[] a = random(r, n + 40, 2.0);
        float[] b = random(r, n + 40, 2.0);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer pa = new FloatPointer(a);
            FloatPointer pb = new FloatPointer(b);
            ByteBuffer ba = pa.capacity(a.length).asByteBuffer();
            ByteBuffer bb = pb.capacity(b.length).asByteBuffer();
            for (int[] c : new int[][] {{0, 0, 7}, {3, 11, 1000}, {17, 5, n}, {40, 40, n}}) {
                assertEquals(FusedDistances.compute(ba, 4 * c[0], bb, 4 * c[1], c[2]),
                        FusedDistances.compute(pa, c[0], pb, c[1], c[2]), Arrays.toString(c));
            }
        }
    }
}
