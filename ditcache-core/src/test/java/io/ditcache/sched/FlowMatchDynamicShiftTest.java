package io.ditcache.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * FlowMatch with {@code use_dynamic_shifting} (FLUX.1-dev's scheduler config) against the schedule recomputed
 * here in float64 from diffusers' definitions: FluxPipeline's {@code linspace(1, 1/n, n)} sigmas, its
 * {@code calculate_shift}, and the scheduler's exponential time shift.
 */
class FlowMatchDynamicShiftTest {
    private static Map<String, Object> fluxDev() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("base_image_seq_len", 256);
        c.put("base_shift", 0.5);
        c.put("max_image_seq_len", 4096);
        c.put("max_shift", 1.15);
        c.put("num_train_timesteps", 1000);
        c.put("shift", 3.0);
        c.put("use_dynamic_shifting", true);
        return c;
    }

    /** The schedule in float64: sigmas (with the final 0) cast to float32, as diffusers stores them. */
    private static float[] expectedSigmas(int n, long seqLen) {
        double mu = 0.5 + (1.15 - 0.5) * (seqLen - 256) / (4096.0 - 256.0);
        float[] out = new float[n + 1];
        for (int i = 0; i < n; i++) {
            double s = n == 1 ? 1.0 : 1.0 - i * (1.0 - 1.0 / n) / (n - 1);
            out[i] = (float) (Math.exp(mu) / (Math.exp(mu) + (1.0 / s - 1.0)));
        }
        return out;
    }

    @Test
    void scheduleFollowsImageSequenceLength() {
        for (long len : new long[] {16, 256, 1024, 4096, 6000}) {
            for (int n : new int[] {1, 4, 28, 50}) {
                FlowMatchEulerScheduler s = (FlowMatchEulerScheduler) Schedulers.create("flowmatch", fluxDev());
                s.setTimesteps(n, len);
                float[] want = expectedSigmas(n, len);
                float[] got = s.sigmas();
                assertEquals(n + 1, got.length);
                for (int i = 0; i <= n; i++) {
                    assertEquals(want[i], got[i], Math.ulp(want[i]), "sigma " + i + " of " + n + " at length " + len);
                }
                double[] t = s.timesteps();
                for (int i = 0; i < n; i++) {
                    assertEquals(want[i] * 1000f, (float) t[i], "timestep " + i);
                }
                assertEquals(0f, got[n]);
            }
        }
    }

    @Test
    void fluxDevAt1024SquareShiftsByMaxShift() {
        // 1024 x 1024 pixels: a 128 x 128 latent, 64 x 64 = 4096 packed tokens, so mu = max_shift
        FlowMatchEulerScheduler s = (FlowMatchEulerScheduler) Schedulers.create("flowmatch", fluxDev());
        assertEquals(1.15, s.mu(4096), 1e-15);
        assertEquals(0.5, s.mu(256), 1e-15);
        s.setTimesteps(28, 4096);
        float[] sig = s.sigmas();
        assertEquals(1f, sig[0]);
        double last = 1.0 / 28;
        assertEquals((float) (Math.exp(1.15) / (Math.exp(1.15) + 1 / last - 1)), sig[27]);
        for (int i = 1; i < sig.length; i++) {
            assertTrue(sig[i] < sig[i - 1], "decreasing at " + i);
        }
    }

    @Test
    void longerSequencesShiftTowardsNoise() {
        FlowMatchEulerScheduler a = (FlowMatchEulerScheduler) Schedulers.create("flowmatch", fluxDev());
        FlowMatchEulerScheduler b = (FlowMatchEulerScheduler) Schedulers.create("flowmatch", fluxDev());
        a.setTimesteps(10, 256);
        b.setTimesteps(10, 4096);
        for (int i = 1; i < 10; i++) {
            assertTrue(b.sigmas()[i] > a.sigmas()[i], "step " + i);
        }
    }

    @Test
    void linearTimeShift() {
        Map<String, Object> c = fluxDev();
        c.put("time_shift_type", "linear");
        FlowMatchEulerScheduler s = (FlowMatchEulerScheduler) Schedulers.create("flowmatch", c);
        s.setTimesteps(5, 1024);
        double mu = s.mu(1024);
        for (int i = 0; i < 5; i++) {
            double sig = 1.0 - i * (1.0 - 0.2) / 4;
            assertEquals((float) (mu / (mu + 1 / sig - 1)), s.sigmas()[i]);
        }
    }

    @Test
    void dynamicShiftingNeedsTheLength() {
        Scheduler s = Schedulers.create("flowmatch", fluxDev());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(28));
        assertTrue(e.getMessage().contains("use_dynamic_shifting") && e.getMessage().contains("imageSeqLen"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(28, 0));
        Map<String, Object> same = fluxDev();
        same.put("max_image_seq_len", 256);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> Schedulers.create("flowmatch", same));
        assertTrue(bad.getMessage().contains("max_image_seq_len"), bad.getMessage());
    }

    @Test
    void staticSchedulesIgnoreTheLength() {
        Scheduler a = Schedulers.create("flowmatch", Map.of("shift", 3.0));
        Scheduler b = Schedulers.create("flowmatch", Map.of("shift", 3.0));
        a.setTimesteps(12);
        b.setTimesteps(12, 4096);
        assertArrayEquals(a.timesteps(), b.timesteps());
        Scheduler ddim = Schedulers.create("ddim", Map.of());
        Scheduler ddim2 = Schedulers.create("ddim", Map.of());
        ddim.setTimesteps(20);
        ddim2.setTimesteps(20, 1024);
        assertArrayEquals(ddim.timesteps(), ddim2.timesteps());
    }
}
