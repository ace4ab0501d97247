package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.internal.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class FusedDistancesTest {

    static FloatBuffer direct(float[] v) {
        FloatBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(0, v);
        return b;
    }

    static float[] random(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    @Test
    void matchesReferenceForEveryMetricSerialAndParallel() {
        Random r = new Random(1);
        for (int n : new int[] {1, 2, 3, 1001, 2 * FusedDistances.CHUNK + 12345}) {
            float[] a = random(r, n, 1.0);
            float[] b = a.clone();
            for (int i = 0; i < n; i++) {
                b[i] += (float) (0.1 * r.nextGaussian());
            }
            DistanceSums s = FusedDistances.compute(direct(a), direct(b), 0, n, false);
            assertEquals(n, s.n());
            for (DistanceMetric m : DistanceMetric.values()) {
                double want = ReferenceDistances.value(m, a, b);
                double got = s.value(m);
                assertEquals(want, got, 1e-6 * Math.abs(want) + 1e-9, m + " n=" + n);
            }
        }
    }

    @Test
    void parallelSumsEqualTheChunksAddedInOrder() {
        Random r = new Random(4);
        int n = 3 * FusedDistances.CHUNK + 777;
        FloatBuffer a = direct(random(r, n, 1.0));
        FloatBuffer b = direct(random(r, n, 1.0));
        DistanceSums inOrder = new DistanceSums(0, 0, 0, 0, 0, 0);
        for (int start = 0; start < n; start += FusedDistances.CHUNK) {
            inOrder = inOrder.plus(FusedDistances.best(a, b, start, Math.min(start + FusedDistances.CHUNK, n), false));
        }
        for (int run = 0; run < 3; run++) {
            assertEquals(inOrder, FusedDistances.compute(a, b, 0, n, false), "run " + run);
        }
    }

    @Test
    void replaceCopiesCurrentOverPreviousInTheSamePass() {
        Random r = new Random(2);
        float[] a = random(r, 2 * FusedDistances.BLOCK + 999, 1);
        float[] b = random(r, a.length, 1);
        FloatBuffer fa = direct(a);
        FusedDistances.compute(fa, direct(b), 0, b.length, true);
        float[] after = new float[b.length];
        fa.get(0, after);
        assertArrayEquals(b, after);
    }

    @Test
    void offsetRangeCoversOnlyThatRange() {
        float[] a = {100, 1, 2, 100};
        float[] b = {-100, 2, 4, -100};
        DistanceSums s = FusedDistances.compute(direct(a), direct(b), 1, 2, false);
        assertEquals(1.5, s.value(DistanceMetric.L1_MEAN), 1e-12);
        assertEquals(1.0, s.value(DistanceMetric.L1_REL), 1e-12);
        assertEquals(0.0, s.value(DistanceMetric.COSINE), 1e-12);
        assertEquals(2.0, s.value(DistanceMetric.NORM_RATIO), 1e-12);
    }

    @Test
    void nonFiniteElementMakesEveryMetricNaN() {
        float[] a = {1, Float.POSITIVE_INFINITY, 3};
        float[] b = {1, 2, 3};
        DistanceSums s = FusedDistances.compute(direct(a), direct(b), 0, 3, false);
        assertTrue(s.nonFinite());
        for (DistanceMetric m : DistanceMetric.values()) {
            assertTrue(Double.isNaN(s.value(m)), m.name());
        }
        float[] c = {1, Float.NaN, 3};
        assertTrue(FusedDistances.compute(direct(c), direct(b), 0, 3, false).nonFinite());
    }

    @Test
    void agreesWithTorchOpsOnTheSameTensors() {
        Random r = new Random(3);
        float[] a = random(r, 4096, 2);
        float[] b = random(r, 4096, 2);
        Tensor ta = Tensors.fromFloats(a, 4096);
        Tensor tb = Tensors.fromFloats(b, 4096);
        double torchL1 = tb.sub(ta).abs().mean().item_double();
        DistanceSums s = FusedDistances.compute(ta.data_ptr_float().capacity(4096).asBuffer(),
                tb.data_ptr_float().capacity(4096).asBuffer(), 0, 4096, false);
        assertEquals(torchL1, s.value(DistanceMetric.L1_MEAN), 1e-6 * torchL1);
    }

    @Test
    void simdAndScalarKernelsBothMatchTheReference() {
        assertTrue(FusedDistances.VECTOR, "the build runs tests with --add-modules jdk.incubator.vector");
        Random r = new Random(11);
        for (int n : new int[] {1, 15, 17, 255, 257, 4099, 100_003}) {
            float[] a = random(r, n, 3.0);
            float[] b = random(r, n, 3.0);
            DistanceSums scalar = FusedDistances.range(direct(a), direct(b), 0, n, false);
            DistanceSums simd = VectorDistances.range(direct(a), direct(b), 0, n, false);
            for (DistanceMetric m : DistanceMetric.values()) {
                double want = ReferenceDistances.value(m, a, b);
                assertEquals(want, scalar.value(m), 1e-9 * Math.abs(want) + 1e-12, "scalar " + m + " n=" + n);
                assertEquals(want, simd.value(m), 1e-9 * Math.abs(want) + 1e-12, "simd " + m + " n=" + n);
            }
            FloatBuffer prev = direct(a);
            VectorDistances.range(prev, direct(b), 0, n, true);
            float[] after = new float[n];
            prev.get(0, after);
            assertArrayEquals(b, after, "simd replace n=" + n);
        }
    }

    @Test
    void inPlaceReadsOfNativeBytesMatchTheReference() {
        Random r = new Random(12);
        for (int n : new int[] {1, 7, 9, 6272, 2 * FusedDistances.CHUNK + 5}) {
            int skipA = 3;
            int skipB = 11;
            float[] a = random(r, n, 2.0);
            float[] b = random(r, n, 2.0);
            java.nio.ByteBuffer ba = java.nio.ByteBuffer.allocateDirect(4 * (n + skipA)).order(ByteOrder.nativeOrder());
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocateDirect(4 * (n + skipB)).order(ByteOrder.nativeOrder());
            ba.asFloatBuffer().put(skipA, a);
            bb.asFloatBuffer().put(skipB, b);
            DistanceSums s = FusedDistances.compute(ba, 4 * skipA, bb, 4 * skipB, n);
            assertEquals(n, s.n());
            for (DistanceMetric m : DistanceMetric.values()) {
                double want = ReferenceDistances.value(m, a, b);
                assertEquals(want, s.value(m), 1e-9 * Math.abs(want) + 1e-12, m + " n=" + n);
            }
        }
    }
}
