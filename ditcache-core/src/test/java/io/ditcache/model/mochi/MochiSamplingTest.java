package io.ditcache.model.mochi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.PredictionType;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How Mochi samples: MochiPipeline's linear-quadratic sigmas recomputed in float64, the scheduler the defaults
 * name producing them, and the Denoiser's clock and sign conventions against the golden forward.
 */
class MochiSamplingTest {
    /**
     * diffusers' {@code linear_quadratic_schedule} recomputed here, in float64, the sigmas {@code 1 - u}: linear
     * up to the threshold over the first half, then the quadratic through (m, threshold) that reaches 1 at n.
     */
    static double[] pipelineSigmas(int n, double threshold) {
        int m = n / 2;
        double[] s = new double[n];
        double gap = m - threshold * n;
        double q = gap / ((double) m * (n - m) * (n - m));
        double l = threshold / m - 2 * gap / ((double) (n - m) * (n - m));
        double c = q * m * m;
        for (int i = 0; i < n; i++) {
            double u = i < m ? i * threshold / m : q * i * i + l * i + c;
            s[i] = 1.0 - u;
        }
        return s;
    }

    @Test
    void theQuadraticJoinsTheLineAtTheThresholdAndReachesCleanAtTheEnd() {
        for (int n : new int[] {2, 7, 28, 64}) {
            int m = n / 2;
            double a = 0.025;
            double gap = m - a * n;
            double q = gap / ((double) m * (n - m) * (n - m));
            double l = a / m - 2 * gap / ((double) (n - m) * (n - m));
            double c = q * m * m;
            assertEquals(a, q * m * m + l * m + c, 1e-12, "continuous at step " + m + " of " + n);
            assertEquals(1.0, q * n * n + l * n + c, 1e-12, "u reaches 1 one step past the end, n = " + n);
            double[] s = pipelineSigmas(n, a);
            assertEquals(1.0, s[0], "starts from pure noise");
            for (int i = 1; i < n; i++) {
                assertTrue(s[i] < s[i - 1], "falling at " + i + " of " + n);
            }
        }
    }

    @Test
    void samplingDefaultsAreThePipelinesAndGiveItsSigmas() {
        SamplingDefaults d = MochiModel.SAMPLING;
        assertEquals(64, d.steps());
        assertEquals(4.5, d.guidance());
        assertEquals(SamplingDefaults.Guidance.CLASSIFIER_FREE, d.kind());
        for (int n : new int[] {64, 28, 6, 2}) {
            Scheduler s = Schedulers.create(d.scheduler(), d.schedulerConfig());
            s.setTimesteps(n);
            double[] want = pipelineSigmas(n, 0.025);
            double[] t = s.timesteps();
            assertEquals(n, t.length);
            try (PointerScope scope = new PointerScope()) {
                Tensor zero = torch.zeros(1);
                Tensor one = torch.ones(1);
                for (int i = 0; i < n; i++) {
                    float sigma = (float) want[i];
                    // diffusers: np.array(sigmas).astype(float32); timesteps = sigmas * 1000 in float32
                    assertEquals(sigma * 1000f, (float) t[i], "timestep " + i + " of " + n);
                    float next = i + 1 < n ? (float) want[i + 1] : 0f;
                    // the Euler step over one unit of velocity is exactly sigma_next - sigma (float32)
                    float dt = Tensors.toFloats(s.step(one, i, zero, null))[0];
                    assertEquals(next - sigma, dt, "step " + i + " of " + n);
                }
            }
            assertEquals("linear_quadratic", s.describe().get("sigma_schedule"));
        }
        Scheduler one = Schedulers.create(d.scheduler(), d.schedulerConfig());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> one.setTimesteps(1));
        assertTrue(e.getMessage().contains("needs at least 2 steps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.create("flowmatch",
                Map.of("sigma_schedule", "cosine")));
        assertTrue(e.getMessage().contains("sigma_schedule"), e.getMessage());
        // the checkpoint's own scheduler config (MochiPipeline's inverted clock) is refused, pointing here
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.create("FlowMatchEulerDiscreteScheduler",
                Map.of("invert_sigmas", true, "shift", 1.0)));
        assertTrue(e.getMessage().contains("\"invert_sigmas\" = true is not supported")
                && e.getMessage().contains("linear_quadratic"), e.getMessage());
    }

    /**
     * The Denoiser's forward at scheduler timestep {@code t} is the negated transformer output at {@code 1000 - t}:
     * the golden inputs' timesteps {@code [73, 575]} are the scheduler's {@code [927, 425]}.
     */
    @Test
    void denoiserIsTheNegatedTransformerOnTheReversedClock(@TempDir Path dir) throws Exception {
        MochiModel model = assertInstanceOf(MochiModel.class,
                ModelLoader.load(MochiGoldenTest.checkpoint(dir.resolve("m"))));
        assertEquals(PredictionType.FLOW, model.info().prediction());
        Path goldenFile = Fixtures.copy(MochiGoldenTest.DIR + "golden.safetensors", dir.resolve("g.safetensors"));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            Tensor x = golden.load("input.hidden_states").clone();
            long[] t = golden.longs("input.timestep");
            Tensor schedulerT = Tensors.fromFloats(new float[] {1000f - t[0], 1000f - t[1]}, 2);
            for (String run : new String[] {"", "extra.masked."}) {
                Tensor mask = golden.load(run.isEmpty() ? "input.encoder_attention_mask"
                        : "extra.masked.encoder_attention_mask");
                TextEmbeddings text = new TextEmbeddings(golden.load("input.encoder_hidden_states"),
                        Optional.of(mask), Optional.empty(), Optional.empty());
                Tensor v = model.forward(x, schedulerT, text, Step.conditional(0, 1, 0, 2), ActivationProbe.NONE);
                float[] want = golden.floats(run + "output.sample");
                float[] got = Tensors.toFloats(v);
                double worst = 0;
                for (int i = 0; i < want.length; i++) {
                    worst = Math.max(worst, Math.abs(-want[i] - got[i]));
                }
                System.out.printf("mochi denoiser %s= -output.sample at 1000 - t: max abs err %.3g%n", run, worst);
                assertTrue(worst <= MochiGoldenTest.TOL, run + " max abs err " + worst);
            }
        }
    }
}
