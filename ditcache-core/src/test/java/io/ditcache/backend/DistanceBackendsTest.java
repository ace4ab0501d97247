package io.ditcache.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.profile.CpuDistanceBackend;
import io.ditcache.profile.StreamingProfiler;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Backends are found by ServiceLoader, chosen by priority, and keep their sums until the run ends. */
class DistanceBackendsTest {

    @AfterEach
    void disable() {
        RecordingBackend.ENABLED.set(false);
        RecordingBackend.EVENTS.clear();
    }

    @Test
    void serviceLoaderFindsCoresCpuBackendAndTheHighestPriorityThatAcceptsWins() {
        List<String> names = DistanceBackends.available().stream().map(DistanceBackend::name).toList();
        assertTrue(names.contains(new CpuDistanceBackend().name()), names.toString());
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.fromFloats(new float[] {1, 2}, 1, 2);
            assertTrue(DistanceBackends.forActivation(t) instanceof CpuDistanceBackend, "recording is disabled");
            RecordingBackend.ENABLED.set(true);
            assertEquals("recording", DistanceBackends.forActivation(t).name());
        }
    }

    @Test
    void theProfilerQueuesEveryComparisonAndReadsThemBackOncePerRun() {
        RecordingBackend.ENABLED.set(true);
        RedundancyProfile viaRecording = profileOf(3);
        RecordingBackend.ENABLED.set(false);
        RedundancyProfile viaCpu = profileOf(3);
        // two runs of 3 steps, 2 rows (COND, UNCOND), 2 comparisons a step: 4 adds, then one drain, per run
        List<String> run = List.of("add 0 0 4", "add 4 4 4", "add 0 0 4", "add 4 4 4", "drain 4");
        assertEquals(List.of(run, run).stream().flatMap(List::stream).toList(), RecordingBackend.EVENTS);
        for (DistanceMetric m : DistanceMetric.stepToStep()) {
            for (Branch b : Branch.values()) {
                SeriesKey k = new SeriesKey(SiteKind.K, io.ditcache.TokenStream.IMAGE, b, m);
                for (int step = 0; step < 2; step++) {
                    assertEquals(viaCpu.series(k).orElseThrow().mean(0, step),
                            viaRecording.series(k).orElseThrow().mean(0, step), 0.0, k + " step " + step);
                }
            }
        }
    }

    /**
     * The CPU backend's fused pass over all rows of a site gives the bits of one {@code add} per row (the recording
     * backend inherits the default {@code addRows}, which calls {@code add} per row), for every series; folded in
     * another sample order, the means agree within 1e-12 relative.
     */
    @Test
    void oneFusedPassPerSiteGivesTheBitsOfOneComparisonPerRow() {
        int steps = 4;
        int samples = 5;
        int width = 1001;
        RecordingBackend.ENABLED.set(true);
        RedundancyProfile perRow = wideProfile(steps, samples, width);
        long adds = RecordingBackend.EVENTS.stream().filter(e -> e.startsWith("add ")).count();
        assertEquals(2L * samples * (steps - 1), adds, "the default addRows calls add once per row");
        RecordingBackend.ENABLED.set(false);
        RedundancyProfile fused = wideProfile(steps, samples, width);
        assertEquals(perRow.series().size(), fused.series().size());
        for (io.ditcache.ProfileSeries s : perRow.series()) {
            io.ditcache.ProfileSeries f = fused.series(s.key()).orElseThrow();
            for (int step = 0; step < steps - 1; step++) {
                assertEquals(s.count(0, step), f.count(0, step));
                assertEquals(s.mean(0, step), f.mean(0, step), 0.0, s.key() + " step " + step);
                assertEquals(s.m2(0, step), f.m2(0, step), 0.0, s.key() + " step " + step);
            }
        }
        // the same sums folded in reverse sample order: Welford's result moves only in the last bits
        for (Branch b : Branch.values()) {
            for (DistanceMetric m : DistanceMetric.stepToStep()) {
                SeriesKey k = new SeriesKey(SiteKind.K, io.ditcache.TokenStream.IMAGE, b, m);
                RedundancyProfile reversed = new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 1,
                        steps);
                for (int step = 0; step < steps - 1; step++) {
                    for (int sample = samples - 1; sample >= 0; sample--) {
                        float[] a = wideRow(step, b, sample, width);
                        float[] bb = wideRow(step + 1, b, sample, width);
                        reversed.add(k, 0, step, io.ditcache.profile.ReferenceDistances.value(m, a, bb));
                    }
                    double want = reversed.series(k).orElseThrow().mean(0, step);
                    assertEquals(want, fused.series(k).orElseThrow().mean(0, step), 1e-12 * Math.abs(want),
                            k + " step " + step);
                }
            }
        }
    }

    private static float[] wideRow(int step, Branch branch, int sample, int width) {
        float[] v = new float[width];
        for (int j = 0; j < width; j++) {
            v[j] = (float) (Math.cos(0.3 * step + 0.01 * j + sample) * (branch == Branch.COND ? 1 : -0.5)
                    + 0.001 * j * sample);
        }
        return v;
    }

    /** One run of {@code samples} guided samples, rows interleaved COND/UNCOND, one site of width floats a row. */
    private static RedundancyProfile wideProfile(int steps, int samples, int width) {
        RedundancyProfile prof = new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 1, steps);
        StreamingProfiler p = new StreamingProfiler(prof);
        List<Branch> rows = new java.util.ArrayList<>();
        for (int s = 0; s < samples; s++) {
            rows.add(Branch.COND);
            rows.add(Branch.UNCOND);
        }
        for (int i = 0; i < steps; i++) {
            float[] all = new float[rows.size() * width];
            int[] seen = new int[2];
            for (int r = 0; r < rows.size(); r++) {
                Branch b = rows.get(r);
                System.arraycopy(wideRow(i, b, seen[b.ordinal()]++, width), 0, all, r * width, width);
            }
            try (PointerScope scope = new PointerScope()) {
                p.observe(new Step(i, steps, 1000 - i, rows), Site.of(0, SiteKind.K),
                        Tensors.fromFloats(all, rows.size(), width));
            }
        }
        p.endRun();
        return prof;
    }

    @Test
    void addRowsRefusesARangeOutsideItsTensorAndACountBeyondItsOffsets() {
        try (PointerScope scope = new PointerScope();
                DistanceAccumulator acc = new CpuDistanceBackend().newAccumulator()) {
            Tensor t = Tensors.fromFloats(new float[8], 2, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> acc.addRows(t, new long[] {0, 6}, t, new long[] {0, 4}, 2, 4));
            assertTrue(e.getMessage().contains("[6, 6 + 4) lies outside its 8 elements"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> acc.addRows(t, new long[] {0}, t, new long[] {0, 4},
                    2, 4));
            assertEquals(0, acc.drain().size(), "nothing queued by a refused call");
        }
    }

    @Test
    void anAccumulatorRefusesARangeOutsideItsTensor() {
        try (PointerScope scope = new PointerScope();
                DistanceAccumulator acc = new CpuDistanceBackend().newAccumulator()) {
            Tensor t = Tensors.fromFloats(new float[8], 2, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> acc.add(t, 6, t, 0, 4));
            assertTrue(e.getMessage().contains("[6, 6 + 4) lies outside its 8 elements"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> acc.add(t, 0, t, -1, 4));
        }
    }

    private static RedundancyProfile profileOf(int steps) {
        RedundancyProfile prof = new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 1, steps);
        StreamingProfiler p = new StreamingProfiler(prof);
        for (int run = 0; run < 2; run++) {
            for (int i = 0; i < steps; i++) {
                float[] v = new float[8];
                for (int j = 0; j < 8; j++) {
                    v[j] = (float) Math.cos(0.3 * i + j + run);
                }
                try (PointerScope scope = new PointerScope()) {
                    p.observe(new Step(i, steps, 1000 - i, List.of(Branch.COND, Branch.UNCOND)), Site.of(0, SiteKind.K),
                            Tensors.fromFloats(v, 2, 4));
                }
            }
            p.endRun();
        }
        return prof;
    }
}
