package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.internal.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class StreamingProfilerTest {
    private static final Site SITE = Site.of(1, SiteKind.K);
    private static final List<Branch> CFG = List.of(Branch.COND, Branch.UNCOND);

    private static RedundancyProfile profile(int steps) {
        return new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 2, steps);
    }

    /** Row r of call i: 6 values that change with i and differ per row. */
    private static float[] row(int i, int r) {
        float[] v = new float[6];
        for (int j = 0; j < 6; j++) {
            v[j] = (float) ((j + 1) * (r == 0 ? 1.0 : -2.0) * Math.pow(0.5 + 0.1 * j, i));
        }
        return v;
    }

    private static void observe(StreamingProfiler p, int i, int steps, float[]... rows) {
        float[] all = new float[rows.length * 6];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, all, r * 6, 6);
        }
        try (PointerScope scope = new PointerScope()) {
            p.observe(new Step(i, steps, 1000 - i, rows.length == 2 ? CFG : List.of(Branch.COND)), SITE,
                    Tensors.fromFloats(all, rows.length, 3, 2));
        }
    }

    @Test
    void everyMetricPerBranchEqualsTheReference() {
        RedundancyProfile prof = profile(4);
        StreamingProfiler p = new StreamingProfiler(prof);
        for (int i = 0; i < 4; i++) {
            observe(p, i, 4, row(i, 0), row(i, 1));
        }
        p.endRun();
        assertEquals(1, prof.runs());
        for (Branch b : Branch.values()) {
            int r = b == Branch.COND ? 0 : 1;
            for (DistanceMetric m : DistanceMetric.stepToStep()) {
                ProfileSeries s = prof.series(new SeriesKey(SiteKind.K, TokenStream.IMAGE, b, m)).orElseThrow();
                for (int t = 0; t < 3; t++) {
                    double want = ReferenceDistances.value(m, row(t, r), row(t + 1, r));
                    assertEquals(want, s.mean(1, t), 1e-6 * Math.abs(want) + 1e-12, b + " " + m + " step " + t);
                    assertEquals(1, s.count(1, t));
                    assertEquals(0, s.count(0, t), "other layers untouched");
                }
            }
        }
    }

    /**
     * A residual observed as output and input gives the profile of the stored residual bit for bit, with guidance
     * rows and a step of fewer rows; with the forecast error, or an input that is not contiguous (at every step, or
     * at step 2 only, where a residual held as output and input meets a stored one), the profiler stores the
     * residual instead, with the same figures and no comparison lost.
     */
    @Test
    void residualsFromOutputsAndInputsGiveTheStoredResidualsProfile() {
        Site residual = Site.of(1, SiteKind.BLOCK_RESIDUAL);
        for (String mode : List.of("in place", "forecast error", "strided input", "strided at step 2")) {
            boolean forecast = mode.equals("forecast error");
            RedundancyProfile taken = profile(5);
            RedundancyProfile stored = profile(5);
            StreamingProfiler pt = new StreamingProfiler(taken, java.util.Set.of(SiteKind.BLOCK_RESIDUAL), forecast);
            StreamingProfiler ps = new StreamingProfiler(stored, java.util.Set.of(SiteKind.BLOCK_RESIDUAL), forecast);
            java.util.Random r = new java.util.Random(7);
            for (int i = 0; i < 5; i++) {
                List<Branch> rows = i == 2 ? List.of(Branch.COND) : CFG;
                float[] out = FusedDistancesTest.random(r, rows.size() * 1029, 1.0);
                float[] near = FusedDistancesTest.random(r, rows.size() * 1029, 1e-2);
                try (PointerScope scope = new PointerScope()) {
                    Step step = new Step(i, 5, 1000 - i, rows);
                    Tensor o = Tensors.fromFloats(out, rows.size(), 3, 343);
                    Tensor in = o.add(Tensors.fromFloats(near, rows.size(), 3, 343));
                    if (mode.equals("strided input") || (mode.equals("strided at step 2") && i == 2)) {
                        in = in.transpose(1, 2).contiguous().transpose(1, 2);
                        assertFalse(in.is_contiguous());
                    }
                    pt.observeResidual(step, residual, o, in);
                    ps.observe(step, residual, o.sub(in));
                }
            }
            pt.endRun();
            ps.endRun();
            // on the worker thread (CI's second pass) the sums are taken from the stored residual
            boolean inCall = !CpuDistanceBackend.background(System.getProperty(CpuDistanceBackend.THREAD_PROPERTY,
                    "caller"));
            int inPlace = mode.equals("in place") ? 4 : mode.equals("strided at step 2") ? 1 : 0; // then stored
            assertEquals(inCall ? inPlace : 0, pt.residualsInPlace, mode);
            List<DistanceMetric> metrics = new java.util.ArrayList<>(DistanceMetric.stepToStep());
            if (forecast) {
                metrics.add(DistanceMetric.FORECAST_L1_REL);
            }
            for (Branch b : Branch.values()) {
                for (DistanceMetric m : metrics) {
                    SeriesKey key = new SeriesKey(SiteKind.BLOCK_RESIDUAL, TokenStream.IMAGE, b, m);
                    if (stored.series(key).isEmpty()) { // no UNCOND forecast: step 2 has no UNCOND row
                        assertTrue(m == DistanceMetric.FORECAST_L1_REL && b == Branch.UNCOND, key.toString());
                        assertTrue(taken.series(key).isEmpty(), key.toString());
                        continue;
                    }
                    ProfileSeries want = stored.series(key).orElseThrow();
                    ProfileSeries got = taken.series(key).orElseThrow();
                    for (int t = 0; t < 4; t++) {
                        assertEquals(want.count(1, t), got.count(1, t), mode + " " + key + " step " + t);
                        assertEquals(want.mean(1, t), got.mean(1, t), mode + " " + key + " step " + t);
                    }
                    long forecastLess = m == DistanceMetric.FORECAST_L1_REL ? 1 : 0; // none from step 0
                    assertEquals((b == Branch.COND ? 4L : 2L) - forecastLess, java.util.stream.IntStream.range(0, 4)
                            .mapToLong(t -> got.count(1, t)).sum(), mode + " " + key + ": the 1-row step pairs its COND");
                }
            }
        }
    }

    @Test
    void aMissingCallStartsAfreshInsteadOfComparingAcrossTheGap() {
        RedundancyProfile prof = profile(4);
        StreamingProfiler p = new StreamingProfiler(prof);
        observe(p, 0, 4, row(0, 0));
        observe(p, 2, 4, row(2, 0));
        observe(p, 3, 4, row(3, 0));
        p.endRun();
        ProfileSeries s = prof.series(SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN)).orElseThrow();
        assertEquals(0, s.count(1, 0));
        assertEquals(0, s.count(1, 1));
        assertEquals(1, s.count(1, 2));
        assertEquals(ReferenceDistances.value(DistanceMetric.L1_MEAN, row(2, 0), row(3, 0)), s.mean(1, 2), 1e-6);
    }

    @Test
    void samplesDrawnSideBySideCountAsSamplesOfOneRun() {
        RedundancyProfile prof = profile(3);
        StreamingProfiler p = new StreamingProfiler(prof);
        for (int i = 0; i < 3; i++) {
            float[] all = new float[3 * 6];
            for (int r = 0; r < 3; r++) {
                System.arraycopy(row(i + r, r % 2), 0, all, r * 6, 6);
            }
            try (PointerScope scope = new PointerScope()) {
                p.observe(new Step(i, 3, 1000 - i, List.of(Branch.COND, Branch.COND, Branch.COND)), SITE,
                        Tensors.fromFloats(all, 3, 3, 2));
            }
        }
        p.endRun();
        assertEquals(1, prof.runs(), "one sampling call");
        assertEquals(3, prof.samples(), "three trajectories");
        assertEquals(3, prof.series(SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN)).orElseThrow().count(1, 0));

        // guidance doubles the rows, not the samples
        RedundancyProfile guided = profile(2);
        StreamingProfiler q = new StreamingProfiler(guided);
        observe(q, 0, 2, row(0, 0), row(0, 1));
        observe(q, 1, 2, row(1, 0), row(1, 1));
        q.endRun();
        assertEquals(1, guided.samples(), "a guided sample is one sample with two rows");
    }

    @Test
    void runsAccumulateAsSamplesOfEachCell() {
        RedundancyProfile prof = profile(2);
        StreamingProfiler p = new StreamingProfiler(prof);
        for (int run = 0; run < 3; run++) {
            observe(p, 0, 2, row(0, 0));
            observe(p, 1, 2, row(1 + run, 0));
            p.endRun();
        }
        ProfileSeries s = prof.series(SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN)).orElseThrow();
        assertEquals(3, s.count(1, 0));
        double[] v = new double[3];
        for (int run = 0; run < 3; run++) {
            v[run] = ReferenceDistances.value(DistanceMetric.L1_MEAN, row(0, 0), row(1 + run, 0));
        }
        assertEquals(Arrays.stream(v).average().orElseThrow(), s.mean(1, 0), 1e-6);
        assertTrue(s.cv(1, 0) > 0);
    }

    @Test
    void nonFiniteActivationsAreMarkedNotAveraged() {
        RedundancyProfile prof = profile(3);
        StreamingProfiler p = new StreamingProfiler(prof);
        float[] bad = row(1, 0);
        bad[2] = Float.NaN;
        observe(p, 0, 3, row(0, 0));
        observe(p, 1, 3, bad);
        observe(p, 2, 3, row(2, 0));
        p.close();
        for (DistanceMetric m : DistanceMetric.stepToStep()) {
            ProfileSeries s = prof.series(SeriesKey.of(SiteKind.K, m)).orElseThrow();
            assertEquals(1, s.nonFinite(1, 0), m.name());
            assertEquals(1, s.nonFinite(1, 1), m.name());
            assertEquals(0, s.count(1, 0));
            assertTrue(Double.isNaN(s.mean(1, 0)));
        }
        assertTrue(prof.hasNonFinite());
    }

    /** Only the kinds asked for are measured, and the model does not even report the others. */
    @Test
    void onlyTheKindsAskedForAreObservedAndProfiled() throws Exception {
        io.ditcache.model.Denoiser model = io.ditcache.model.DefaultModel.load();
        int steps = 3;
        RedundancyProfile prof = new RedundancyProfile(Map.of("name", "default"), Map.of(), model.layers(), steps);
        java.util.Set<SiteKind> kinds = java.util.EnumSet.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT);
        StreamingProfiler profiler = new StreamingProfiler(prof, kinds);
        java.util.Set<SiteKind> reported = java.util.EnumSet.noneOf(SiteKind.class);
        io.ditcache.ActivationProbe spy = new io.ditcache.ActivationProbe() {
            @Override
            public boolean wants(Site site) {
                return profiler.wants(site);
            }

            @Override
            public void observe(Step step, Site site, Tensor activation) {
                reported.add(site.kind());
                profiler.observe(step, site, activation);
            }

            @Override
            public void endRun() {
                profiler.endRun();
            }
        };
        new io.ditcache.sample.Sampler(model, io.ditcache.sched.Schedulers.create("ddim", Map.of())).sample(
                new io.ditcache.sample.SamplingOptions(List.of(new io.ditcache.sample.Condition(1, 0)), steps, 1.5),
                spy);
        assertEquals(kinds, reported, "the model reports only wanted kinds");
        java.util.Set<SiteKind> profiled = java.util.EnumSet.noneOf(SiteKind.class);
        prof.series().forEach(s -> profiled.add(s.key().kind()));
        assertEquals(kinds, profiled);
        assertEquals(1, prof.samples());
        assertThrows(IllegalArgumentException.class, () -> new StreamingProfiler(prof, java.util.Set.of()));
    }

    @Test
    void batchThatDoesNotMatchTheStepIsRejected() {
        StreamingProfiler p = new StreamingProfiler(profile(3));
        try (PointerScope scope = new PointerScope()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.observe(
                    Step.conditional(0, 3, 999, 2), SITE, Tensors.fromFloats(new float[6], 1, 3, 2)));
            assertTrue(e.getMessage().contains("batch 1"), e.getMessage());
        }
        assertFalse(p.profile().hasNonFinite());
    }

    /**
     * Rows past 2 GiB: step 1's third row starts 2^29 + 32 elements (2 GiB + 128 bytes) into its tensor. Only the
     * compared rows are written (1 GiB each); the rest of the 3 GiB tensor is never touched.
     */
    @Test
    void activationsOver2GiBAreComparedAtTheirOffsets() {
        long perRow = (1L << 28) + 16;
        RedundancyProfile prof = profile(2);
        StreamingProfiler p = new StreamingProfiler(prof);
        try (PointerScope scope = new PointerScope()) {
            Tensor a = torch.empty(1, perRow);
            a.fill_(new Scalar(1.5f));
            p.observe(new Step(0, 2, 1000, List.of(Branch.COND)), SITE, a);
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor b = torch.empty(3, perRow);
            b.select(0, 0).narrow(0, 0, 4096).fill_(new Scalar(7f)); // an UNCOND row: must not be read as COND's
            b.select(0, 2).fill_(new Scalar(2f));
            p.observe(new Step(1, 2, 999, List.of(Branch.UNCOND, Branch.UNCOND, Branch.COND)), SITE, b);
        }
        p.endRun();
        ProfileSeries l1 = prof.series(SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN)).orElseThrow();
        assertEquals(0.5, l1.mean(1, 0), 1e-12);
        assertEquals(1.0 / 3, prof.series(SeriesKey.of(SiteKind.K, DistanceMetric.L1_REL)).orElseThrow()
                .mean(1, 0), 1e-12);
        assertEquals(4.0 / 3, prof.series(SeriesKey.of(SiteKind.K, DistanceMetric.NORM_RATIO)).orElseThrow()
                .mean(1, 0), 1e-12);
        assertEquals(0, prof.series(new SeriesKey(SiteKind.K, TokenStream.IMAGE, Branch.UNCOND,
                DistanceMetric.L1_MEAN)).map(s -> s.count(1, 0)).orElse(0L), "UNCOND had no previous call");
    }
}
