package io.ditcache.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Step sensitivities: on flow-matching Euler, where the sample moves by {@code (sigma_{i+1} - sigma_i) v}, the weight
 * of step {@code i} is exactly its sigma gap (scaled to mean 1); on DDIM an output error at the last steps moves the
 * final sample less than one at the first.
 */
class StepSensitivityTest {
    @Test
    void flowMatchingWeighsEachStepByItsSigmaGap() {
        int steps = 12;
        Scheduler probe = Schedulers.create("flowmatch", Map.of("shift", 3.0));
        probe.setTimesteps(steps, 256);
        double[] t = probe.timesteps();
        double[] w = StepSensitivity.of(() -> Schedulers.create("flowmatch", Map.of("shift", 3.0)), steps, 256);
        double first = t[0] / 1000;
        for (int i = 0; i < steps; i++) {
            double gap = t[i] / 1000 - (i + 1 < steps ? t[i + 1] / 1000 : 0);
            assertEquals(gap * steps / first, w[i], 1e-4, "step " + i);
        }
    }

    @Test
    void ddimWeighsLateStepsLessAndAveragesOne() {
        int steps = 10;
        double[] w = StepSensitivity.of(() -> Schedulers.create("ddim", Map.of()), steps, 49);
        double sum = 0;
        for (double v : w) {
            assertTrue(v >= 0 && Double.isFinite(v));
            sum += v;
        }
        assertEquals(steps, sum, 1e-9);
        assertTrue(w[steps - 1] < w[0], java.util.Arrays.toString(w));
    }

    /**
     * DDIM's clip_sample caps the early steps' weights (the unit response saturates at the clip), which the planner
     * relies on (see the class); without clipping the response is the scheduler's derivative, falling all the way.
     */
    @Test
    void ddimClippingCapsTheEarlyWeights() {
        int steps = 50;
        double[] clipped = StepSensitivity.of(() -> Schedulers.create("ddim", Map.of()), steps, 49);
        double[] free = StepSensitivity.of(() -> Schedulers.create("ddim", Map.of("clip_sample", false)), steps, 49);
        for (int i = 1; i < 29; i++) {
            assertEquals(clipped[0], clipped[i], 1e-6, "capped: step " + i);
        }
        assertEquals(1.53, clipped[0], 0.01);
        assertTrue(clipped[40] < 0.2, java.util.Arrays.toString(clipped));
        for (int i = 1; i < 45; i++) {
            assertTrue(free[i] < free[i - 1], "falling: step " + i + " " + java.util.Arrays.toString(free));
        }
        assertEquals(8.9, free[0], 0.05);
    }
}
