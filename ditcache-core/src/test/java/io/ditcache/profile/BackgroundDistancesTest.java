package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceSums;
import io.ditcache.internal.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The CPU backend's worker thread gives the caller's bits, in order, and holds what it still has to read. */
class BackgroundDistancesTest {

    /**
     * Three times the ring's slots of comparisons, each on tensors whose pointer scope closes right after the call
     * (so only the accumulator's references keep them), with drains in between: every result has the bits of the
     * computing-in-the-call accumulator, in the order added.
     */
    @Test
    void givesTheCallersBitsInOrderOverManyRingTurns() {
        Random r = new Random(11);
        int comparisons = 3 * BackgroundDistances.SLOTS + 5;
        List<DistanceSums> background = new ArrayList<>();
        List<DistanceSums> caller = new ArrayList<>();
        try (DistanceAccumulator bg = new CpuDistanceBackend(true).newAccumulator();
                DistanceAccumulator inCall = new CpuDistanceBackend(false).newAccumulator()) {
            assertTrue(bg instanceof BackgroundDistances);
            for (int i = 0; i < comparisons; i++) {
                int rows = 1 + r.nextInt(4);
                int perRow = 1 + r.nextInt(3000);
                float[] a = FusedDistancesTest.random(r, rows * perRow, 1 + r.nextInt(3));
                float[] b = FusedDistancesTest.random(r, rows * perRow, 1 + r.nextInt(3));
                long[] ao = new long[rows];
                long[] bo = new long[rows];
                for (int k = 0; k < rows; k++) {
                    ao[k] = (long) k * perRow;
                    bo[k] = (long) (rows - 1 - k) * perRow;
                }
                try (PointerScope scope = new PointerScope()) {
                    Tensor ta = Tensors.fromFloats(a, rows, perRow);
                    Tensor tb = Tensors.fromFloats(b, rows, perRow);
                    bg.addRows(ta, ao, tb, bo, rows, perRow);
                    inCall.addRows(ta, ao, tb, bo, rows, perRow);
                    ao[0] = -1; // the arrays are only read during the call
                }
                if (i % 50 == 49) {
                    background.addAll(bg.drain());
                    caller.addAll(inCall.drain());
                }
            }
            background.addAll(bg.drain());
            caller.addAll(inCall.drain());
            assertEquals(0, bg.drain().size(), "drained");
        }
        assertEquals(caller.size(), background.size());
        assertTrue(caller.size() > comparisons);
        for (int i = 0; i < caller.size(); i++) {
            assertEquals(caller.get(i), background.get(i), "comparison " + i);
        }
    }

    @Test
    void aProfileTakenOnTheWorkerHasTheBitsOfOneTakenInTheCall() {
        RedundancyProfile viaWorker = profile(new CpuDistanceBackend(true));
        RedundancyProfile inCall = profile(new CpuDistanceBackend(false));
        assertFalse(inCall.series().isEmpty());
        for (io.ditcache.ProfileSeries s : inCall.series()) {
            io.ditcache.ProfileSeries w = viaWorker.series(s.key()).orElseThrow();
            for (int step = 0; step < inCall.steps() - 1; step++) {
                assertEquals(s.count(0, step), w.count(0, step));
                assertEquals(s.mean(0, step), w.mean(0, step), 0.0, s.key() + " step " + step);
                assertEquals(s.m2(0, step), w.m2(0, step), 0.0, s.key() + " step " + step);
            }
        }
    }

    /**
     * Six steps of two guided samples (rows COND, UNCOND, COND, UNCOND) compared step to step by {@code backend}'s
     * accumulator, folded into a profile as the profiler folds them.
     */
    private static RedundancyProfile profile(CpuDistanceBackend backend) {
        int steps = 6;
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 1, steps);
        try (DistanceAccumulator acc = backend.newAccumulator()) {
            for (int step = 0; step < steps; step++) {
                float[] v = new float[4 * 500];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) Math.sin(0.001 * i * (step + 1) + step);
                }
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = Tensors.fromFloats(v, 4, 500);
                    long[] offsets = {0, 500, 1000, 1500};
                    if (step > 0) {
                        float[] w = new float[v.length];
                        for (int i = 0; i < w.length; i++) {
                            w[i] = (float) Math.sin(0.001 * i * step + step - 1);
                        }
                        acc.addRows(Tensors.fromFloats(w, 4, 500), offsets, t, offsets, 4, 500);
                    }
                }
                acc.submit();
            }
            List<DistanceSums> sums = acc.drain();
            assertEquals(4 * (steps - 1), sums.size());
            for (int i = 0; i < sums.size(); i++) {
                Branch branch = i % 2 == 0 ? Branch.COND : Branch.UNCOND;
                for (io.ditcache.DistanceMetric m : io.ditcache.DistanceMetric.stepToStep()) {
                    p.add(new io.ditcache.SeriesKey(SiteKind.K, io.ditcache.TokenStream.IMAGE, branch, m), 0,
                            i / 4, sums.get(i).value(m));
                }
            }
        }
        return p;
    }

    /** A kernel failure on the worker (here: an int64 tensor, which has no float data) surfaces at the drain. */
    @Test
    void aFailureOnTheWorkerIsThrownByTheNextDrain() {
        try (DistanceAccumulator acc = new CpuDistanceBackend(true).newAccumulator();
                PointerScope scope = new PointerScope()) {
            Tensor ints = Tensors.fromFloats(new float[] {1, 2, 3, 4}, 1, 4).to(
                    org.bytedeco.pytorch.global.torch.ScalarType.Long);
            Tensor floats = Tensors.fromFloats(new float[] {1, 2, 3, 4}, 1, 4);
            acc.addRows(ints, new long[] {0}, floats, new long[] {0}, 1, 4);
            acc.addRows(floats, new long[] {0}, floats, new long[] {0}, 1, 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, acc::drain);
            assertTrue(e.getMessage().startsWith("the distance worker failed"), e.getMessage());
            // the failure is reported once; the accumulator goes on
            acc.addRows(floats, new long[] {0}, floats, new long[] {0}, 1, 4);
            List<DistanceSums> after = acc.drain();
            assertEquals(1, after.size());
            assertEquals(0.0, after.get(0).sumAbsDiff());
        }
    }

    @Test
    void rangesAreCheckedInTheCallAndAClosedAccumulatorRefusesWork() {
        DistanceAccumulator acc = new CpuDistanceBackend(true).newAccumulator();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.fromFloats(new float[] {1, 2, 3, 4}, 1, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> acc.addRows(t, new long[] {1}, t, new long[] {0}, 1, 4));
            assertTrue(e.getMessage().contains("lies outside its 4 elements"), e.getMessage());
            acc.add(t, 0, t, 0, 4);
            acc.close();
            acc.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> acc.add(t, 0, t, 0, 4));
        }
    }

    /** The worker thread ends once idle, and the next comparison starts another. */
    @Test
    void theWorkerEndsWhenIdleAndComesBackForMoreWork() throws InterruptedException {
        try (BackgroundDistances acc = new BackgroundDistances(); PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.fromFloats(new float[] {1, 2, 3, 4}, 1, 4);
            acc.add(t, 0, t, 0, 4);
            assertEquals(1, acc.drain().size());
            assertTrue(acc.hasWorker(), "the drain woke a worker");
            long deadline = System.nanoTime() + 10 * BackgroundDistances.IDLE_MILLIS * 1_000_000;
            while (acc.hasWorker() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(acc.hasWorker(), "the idle worker ended");
            acc.add(t, 0, t, 0, 4);
            assertEquals(1, acc.drain().size());
        }
    }

    @Test
    void threadPropertyChoosesWorkerOrCallerAndRefusesOtherValues() {
        assertTrue(CpuDistanceBackend.background("worker"));
        assertFalse(CpuDistanceBackend.background("caller"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuDistanceBackend.background("both"));
        assertEquals("system property ditcache.distance.thread = 'both': expected worker or caller", e.getMessage());
    }
}
