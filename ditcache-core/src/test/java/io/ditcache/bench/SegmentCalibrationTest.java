package io.ditcache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.CacheStats;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.policy.SegmentErrors;
import io.ditcache.policy.SegmentPlanner;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The LeMiCa-style calibration on the embedded model: each segment's error is the relative L1 distance of a run
 * caching only that segment, recomputed here on its own; reuse costs something; and the planner's plan over the
 * measured errors runs.
 */
class SegmentCalibrationTest {
    private static final int STEPS = 6;

    @Test
    void eachSegmentErrorIsThatOfARunCachingOnlyIt() throws Exception {
        Denoiser model = DefaultModel.load();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            SamplingOptions options = new SamplingOptions(List.of(new Condition(3, 0), new Condition(7, 1)), STEPS,
                    1.5);
            AtomicInteger planned = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            SegmentCalibration.Result r = SegmentCalibration.measure(model, () -> Schedulers.create("ddim", Map.of()),
                    options, 3, io.ditcache.Approximation.REUSE, "default", new SegmentCalibration.Listener() {
                        @Override
                        public void planned(int runs) {
                            planned.set(runs);
                        }

                        @Override
                        public void runDone() {
                            done.incrementAndGet();
                        }
                    });
            int candidates = SegmentErrors.candidates(STEPS, 3).size(); // 4 of length 2, 3 of length 3
            assertEquals(9, candidates);
            assertEquals(candidates + 1, r.runs());
            assertEquals(r.runs(), planned.get());
            assertEquals(r.runs(), done.get());
            assertTrue(r.seconds() > 0);
            SegmentErrors e = r.errors();

            float[] ref = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, ActivationProbe.NONE)
                    .values();
            boolean[][] compute = new boolean[STEPS][model.layers()];
            for (int s = 0; s < STEPS; s++) {
                java.util.Arrays.fill(compute[s], s != 2 && s != 3); // segment 1..4: computes 1, reuses 2 and 3
            }
            float[] cached = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, null,
                    new ProfileGuidedPolicy(new ComputeMask(compute, new ComputeMask.Budget(4.0 / STEPS), 0, "t")),
                    new CacheStats()).values();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < ref.length; i++) {
                diff += Math.abs((double) cached[i] - ref[i]);
                norm += Math.abs(ref[i]);
            }
            assertEquals(diff / norm, e.error(1, 4), 1e-12);
            for (int[] c : SegmentErrors.candidates(STEPS, 3)) {
                assertTrue(e.error(c[0], c[1]) > 0, "reusing steps " + (c[0] + 1) + ".." + (c[1] - 1) + " is free");
            }
            // a longer segment from the same step reuses more: on this model it costs more
            assertTrue(e.error(0, 3) > e.error(0, 2), e.error(0, 3) + " vs " + e.error(0, 2));

            ComputeMask plan = new SegmentPlanner(e).planForBudget(0.5, model.layers());
            assertEquals(0.5, plan.computedFraction(), 1e-12);
            float[] planned3 = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, null,
                    new ProfileGuidedPolicy(plan), new CacheStats()).values();
            assertEquals(ref.length, planned3.length);
        }
    }

    /** Calibrated with first-order forecasts, a segment's error is that of a run forecasting through it. */
    @Test
    void aForecastCalibrationRunsTheForecast() throws Exception {
        Denoiser model = DefaultModel.load();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            SamplingOptions options = new SamplingOptions(List.of(new Condition(5, 2)), STEPS, 1.0);
            io.ditcache.Approximation taylor = io.ditcache.Approximation.taylor(1);
            SegmentErrors forecast = SegmentCalibration.measure(model, () -> Schedulers.create("ddim", Map.of()),
                    options, 2, taylor, "default", SegmentCalibration.Listener.NONE).errors();
            SegmentErrors reuse = SegmentCalibration.measure(model, () -> Schedulers.create("ddim", Map.of()),
                    options, 2, io.ditcache.Approximation.REUSE, "default", SegmentCalibration.Listener.NONE).errors();
            float[] ref = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, ActivationProbe.NONE)
                    .values();
            boolean[][] compute = new boolean[STEPS][model.layers()];
            for (int s = 0; s < STEPS; s++) {
                java.util.Arrays.fill(compute[s], s != 3); // segment 2..4: computes 2, forecasts 3 from 1 and 2
            }
            float[] cached = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, null,
                    new ProfileGuidedPolicy(new ComputeMask(compute, new ComputeMask.Budget(5.0 / STEPS), 0, "t"),
                            taylor), new CacheStats()).values();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < ref.length; i++) {
                diff += Math.abs((double) cached[i] - ref[i]);
                norm += Math.abs(ref[i]);
            }
            assertEquals(diff / norm, forecast.error(2, 4), 1e-12);
            assertTrue(forecast.error(2, 4) != reuse.error(2, 4), "the forecast ran, not plain reuse");
        }
    }

    @Test
    void refusesASegmentLongerThanTheRun() throws Exception {
        Denoiser model = DefaultModel.load();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            SamplingOptions options = new SamplingOptions(List.of(new Condition(3, 0)), STEPS, 1.0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SegmentCalibration
                    .measure(model, () -> Schedulers.create("ddim", Map.of()), options, STEPS + 1, io.ditcache.Approximation.REUSE,
                            "default",
                            SegmentCalibration.Listener.NONE));
            assertTrue(e.getMessage().contains("max segment length 7 for 6 steps"), e.getMessage());
        }
    }
}
