package io.ditcache.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.Float32Drift;
import io.ditcache.RedundancyProfile;
import io.ditcache.Site;
import io.ditcache.Step;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplerTest {
    @TempDir
    static Path dir;
    static DiTModel model;

    @BeforeAll
    static void load() throws Exception {
        model = (DiTModel) ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
    }

    private static Samples sample(String scheduler, List<Condition> conds, double guidance, ActivationProbe probe) {
        return new Sampler(model, Schedulers.create(scheduler, Map.of()))
                .sample(new SamplingOptions(conds, 8, guidance), probe);
    }

    @Test
    void aSampleDoesNotDependOnItsBatch() {
        Condition a = new Condition(3, 11);
        Condition b = new Condition(7, 12);
        for (String s : List.of("ddim", "ddpm", "dpm++")) {
            Samples both = sample(s, List.of(a, b), 3.0, ActivationProbe.NONE);
            Samples onlyB = sample(s, List.of(b), 3.0, ActivationProbe.NONE);
            // Batch 2 and batch 1 run other kernels (blocking by shape): equal within float32 drift, not bit for bit.
            double drift = Float32Drift.maxRelativeDifference(onlyB.sample(0), both.sample(1));
            double tol = Float32Drift.tolerance(8, 3.0);
            assertTrue(drift <= tol, s + ": drift " + drift + " within " + tol);
        }
    }

    @Test
    void sameSeedSameSamplesBitForBitAndOtherSeedDiffers() {
        Samples x = sample("ddpm", List.of(new Condition(1, 5)), 1.0, ActivationProbe.NONE);
        Samples y = sample("ddpm", List.of(new Condition(1, 5)), 1.0, ActivationProbe.NONE);
        Samples z = sample("ddpm", List.of(new Condition(1, 6)), 1.0, ActivationProbe.NONE);
        assertArrayEquals(x.values(), y.values());
        assertFalse(java.util.Arrays.equals(x.values(), z.values()));
        assertArrayEquals(new long[] {1, 4, 8, 8}, x.shape());
    }

    @Test
    void guidanceRunsOneBatchedCallWithCondThenUncondRows() {
        List<Step> steps = new ArrayList<>();
        List<Long> batches = new ArrayList<>();
        ActivationProbe spy = new ActivationProbe() {
            @Override
            public boolean wants(Site site) {
                return site.layer() == 0 && site.kind() == io.ditcache.SiteKind.K;
            }

            @Override
            public void observe(Step step, Site site, Tensor activation) {
                steps.add(step);
                batches.add(activation.size(0));
            }
        };
        sample("ddim", List.of(new Condition(1, 0), new Condition(2, 0)), 4.0, spy);
        assertEquals(8, steps.size(), "one call per step");
        assertEquals(List.of(Branch.COND, Branch.COND, Branch.UNCOND, Branch.UNCOND), steps.get(0).rows());
        assertTrue(batches.stream().allMatch(b -> b == 4));
        assertEquals(1, steps.get(1).sampleOf(3));
        steps.clear();
        sample("ddim", List.of(new Condition(1, 0)), 1.0, spy);
        assertEquals(List.of(Branch.COND), steps.get(0).rows());
    }

    @Test
    void profileOfAGuidedRunHasBothBranchesAndOneRunPerCondition() {
        SamplingOptions options = new SamplingOptions(SamplingOptions.grid(List.of(1, 2), List.of(0L, 1L)), 6, 2.0);
        RedundancyProfile p = Profiling.run(model, "dit", Schedulers.create("euler", Map.of()), options, null);
        assertEquals(4, p.layers());
        assertEquals(6, p.steps());
        assertEquals(1, p.runs(), "one sampling call");
        for (Branch b : Branch.values()) {
            assertTrue(p.series().stream().anyMatch(s -> s.key().branch() == b), b.name());
        }
        p.series().forEach(s -> assertEquals(4, s.count(0, 3), s.key() + " has one value per condition"));
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SamplingOptions(List.of(new Condition(1, 0)), 8, 0.5));
        assertTrue(e.getMessage().contains("0.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> sample("ddim", List.of(new Condition(10, 0)), 1.0, ActivationProbe.NONE));
        assertTrue(e.getMessage().contains("class label 10"), e.getMessage());
        Samples wrong = new Samples(new float[3 * 4 * 8 * 8], new long[] {3, 4, 8, 8});
        e = assertThrows(IllegalArgumentException.class, () -> new Sampler(model, Schedulers.create("ddim", Map.of()))
                .sample(new SamplingOptions(List.of(new Condition(1, 0), new Condition(2, 0)), 4, 1.0), wrong,
                        ActivationProbe.NONE));
        assertTrue(e.getMessage().contains("initial latents have shape [3, 4, 8, 8]"), e.getMessage());
    }
}
