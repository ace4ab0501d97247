package io.ditcache.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * FluxPipeline passes its own sigmas, {@code linspace(1, 1/n, n)}, also with static shifting (FLUX.1-schnell):
 * {@code sigma_schedule "flux"} gives them, shifted as the scheduler shifts given sigmas, against a float64
 * recomputation.
 */
class FlowMatchFluxSigmasTest {
    @Test
    void schnellFourStepsAreQuarterSteps() {
        Scheduler s = Schedulers.create("flowmatch", Map.of("sigma_schedule", "flux", "shift", 1.0));
        s.setTimesteps(4);
        assertArrayEquals(new double[] {1000, 750, 500, 250}, s.timesteps(), 1e-3);
    }

    @Test
    void staticShiftIsAppliedToThePipelinesSigmas() {
        for (int n : new int[] {1, 3, 7, 28}) {
            Scheduler s = Schedulers.create("flowmatch", Map.of("sigma_schedule", "flux", "shift", 3.0));
            s.setTimesteps(n);
            double[] t = s.timesteps();
            assertEquals(n, t.length);
            for (int i = 0; i < n; i++) {
                double sigma = n == 1 ? 1.0 : 1.0 - i * (1.0 - 1.0 / n) / (n - 1);
                double want = 3 * sigma / (1 + 2 * sigma) * 1000;
                assertEquals(want, t[i], 1e-3 * Math.max(1, want / 1000), "n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void theDefaultLinearScheduleIsNotThePipelines() {
        Scheduler s = Schedulers.create("flowmatch", Map.of("shift", 1.0));
        s.setTimesteps(4);
        assertEquals(1.0, s.timesteps()[3], 1e-3, "the bare scheduler ends at its smallest training sigma");
    }
}
