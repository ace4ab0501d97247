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
        for (DistanceMetric m : DistanceMetric.values()) {
            for (Branch b : Branch.values()) {
                SeriesKey k = new SeriesKey(SiteKind.K, io.ditcache.TokenStream.IMAGE, b, m);
                for (int step = 0; step < 2; step++) {
                    assertEquals(viaCpu.series(k).orElseThrow().mean(0, step),
                            viaRecording.series(k).orElseThrow().mean(0, step), 0.0, k + " step " + step);
                }
            }
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
