package io.ditcache.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import io.ditcache.io.SafetensorsFile;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every scheduler against the diffusers golden runs in {@code fixtures/schedulers} (see the fixtures'
 * README): timesteps, noise schedule, each step alone, and the whole loop with the toy model
 * {@code 0.1 * input + 0.01 * t / 1000}.
 */
class SchedulerFixtureTest {
    /** Per-element tolerance: |got - want| <= TOL * max(1, |want|). */
    private static final double TOL = 1e-5;

    private static final Map<String, String> SHORT_NAMES = Map.of(
            "DDIMScheduler", "ddim",
            "CogVideoXDDIMScheduler", "cogvideox-ddim",
            "DDPMScheduler", "ddpm",
            "DPMSolverMultistepScheduler", "dpm++",
            "EulerDiscreteScheduler", "euler",
            "FlowMatchEulerDiscreteScheduler", "flowmatch");

    record Fixture(String name, Map<String, Object> json, SafetensorsFile tensors) {
        @SuppressWarnings("unchecked")
        Map<String, Object> config() {
            return (Map<String, Object>) json.get("config");
        }

        int steps() {
            return ((Number) json.get("num_inference_steps")).intValue();
        }

        Scheduler scheduler() {
            Scheduler s = Schedulers.create(SHORT_NAMES.get((String) json.get("class_name")), config());
            s.setTimesteps(steps());
            return s;
        }

        /** Row {@code i} of a stacked {@code [N, ...]} tensor. */
        Tensor row(String name, int i) {
            return tensors.load(name).select(0, i);
        }
    }

    static Stream<String> allFixtures() {
        return Stream.of("ddim20", "ddim50", "ddpm50", "dpmsolver20", "euler30", "flowmatch28_shift1",
                "flowmatch28_shift3", "cogvideoxddim8");
    }

    @SuppressWarnings("unchecked")
    static Fixture fixture(String name) {
        String base = "/fixtures/schedulers/scheduler_" + name;
        try (InputStream in = SchedulerFixtureTest.class.getResourceAsStream(base + ".json")) {
            Map<String, Object> json = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build()
                    .readValue(in, Map.class);
            byte[] bytes;
            try (InputStream t = SchedulerFixtureTest.class.getResourceAsStream(base + ".safetensors")) {
                bytes = t.readAllBytes();
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            return new Fixture(name, json, SafetensorsFile.open(buf, base + ".safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The values of a float or integer tensor as doubles. */
    static double[] doubles(SafetensorsFile f, String name) {
        if (f.info(name).dtype().isFloatingPoint()) {
            float[] v = f.floats(name);
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                d[i] = v[i];
            }
            return d;
        }
        return java.util.Arrays.stream(f.longs(name)).asDoubleStream().toArray();
    }

    /** The toy model of the fixtures, as the float32 tensor ops diffusers' script ran. */
    static Tensor toyModel(Tensor input, double t) {
        return input.mul(new Scalar(0.1)).add(new Scalar(0.01 * t / 1000));
    }

    @ParameterizedTest
    @MethodSource("allFixtures")
    void timestepsAndNoiseScheduleMatchDiffusers(String name) {
        Fixture f = fixture(name);
        Scheduler s = f.scheduler();
        assertArrayEquals(doubles(f.tensors(), "timesteps"), s.timesteps(), name + " timesteps");
        assertEquals(((Number) f.json().get("init_noise_sigma")).doubleValue(), s.initNoiseSigma(),
                1e-6 * s.initNoiseSigma(), name + " init_noise_sigma");
        NoiseSchedule schedule = null;
        float[] sigmas = null;
        if (s instanceof DdimScheduler d) {
            schedule = d.schedule();
        } else if (s instanceof DdpmScheduler d) {
            schedule = d.schedule();
        } else if (s instanceof DpmSolverMultistepScheduler d) {
            schedule = d.schedule();
            sigmas = d.sigmas();
        } else if (s instanceof EulerDiscreteScheduler d) {
            schedule = d.schedule();
            sigmas = d.sigmas();
        } else if (s instanceof FlowMatchEulerScheduler d) {
            sigmas = d.sigmas();
        }
        if (schedule != null) {
            assertClose(f.tensors().floats("sched.betas"), schedule.betas, 1e-6, name + " betas");
            assertClose(f.tensors().floats("sched.alphas_cumprod"), schedule.alphasCumprod, 1e-6,
                    name + " alphas_cumprod");
        }
        if (sigmas != null) {
            assertClose(f.tensors().floats("sched.sigmas"), sigmas, 1e-6, name + " sigmas");
        }
        if (s instanceof DpmSolverMultistepScheduler d) {
            // lambda = log(alpha) - log(sigma) cancels near 0: compare on the scale of its terms.
            assertClose(f.tensors().floats("sched.lambda_t"), d.lambdas(), 1e-6, 1.0, name + " lambda_t");
        }
        if (s instanceof CogVideoXDdimScheduler d) {
            // float64 in diffusers and here; zero-terminal SNR: the last entry is exactly 0
            double[] want = f.tensors().doubles("sched.alphas_cumprod");
            double[] got = d.alphasCumprodTable();
            assertEquals(want.length, got.length, name + " alphas_cumprod length");
            for (int k = 0; k < want.length; k++) {
                assertEquals(want[k], got[k], 1e-12, name + " alphas_cumprod[" + k + "]");
            }
            assertEquals(0.0, got[got.length - 1], name + " zero terminal SNR");
        }
        if (s instanceof DdimScheduler d) {
            List<?> fa = (List<?>) f.json().get("final_alpha_cumprod");
            assertEquals(((Number) fa.get(0)).floatValue(), d.finalAlphaCumprod(), name + " final_alpha_cumprod");
        }
    }

    @ParameterizedTest
    @MethodSource("allFixtures")
    void fullLoopReproducesEveryStep(String name) {
        Fixture f = fixture(name);
        Scheduler s = f.scheduler();
        List<float[]> samples = runLoop(f, s);
        double worst = 0;
        for (int i = 0; i < samples.size(); i++) {
            worst = Math.max(worst, check(f.tensors().floats("prev_samples"), i, samples.get(i), name + " step " + i));
        }
        worst = Math.max(worst, check(f.tensors().floats("final_sample"), 0, samples.get(samples.size() - 1),
                name + " final_sample"));
        System.out.printf("%s loop: worst |err| / max(1,|x|) = %.3g%n", name, worst);
    }

    @ParameterizedTest
    @MethodSource("allFixtures")
    void eachStepAloneMatchesGoldenStep(String name) {
        Fixture f = fixture(name);
        Scheduler s = f.scheduler();
        int n = s.timesteps().length;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor sample = i == 0 ? f.tensors().load("init_sample") : f.row("prev_samples", i - 1);
                Tensor input = s.scaleModelInput(sample, i);
                worst = Math.max(worst, check(f.tensors().floats("model_inputs"), i, NoiseSchedule.toArray(input),
                        name + " model_input " + i));
                int step = i;
                Supplier<Tensor> noise = f.tensors().contains("noises") ? () -> f.row("noises", step) : null;
                Tensor prev = s.step(f.row("model_outputs", i), i, sample, noise);
                worst = Math.max(worst, check(f.tensors().floats("prev_samples"), i, NoiseSchedule.toArray(prev),
                        name + " step " + i));
            }
        }
        System.out.printf("%s steps alone: worst |err| / max(1,|x|) = %.3g%n", name, worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddim20", "ddpm50", "dpmsolver20", "euler30", "flowmatch28_shift3"})
    void setTimestepsResetsState(String name) {
        Fixture f = fixture(name);
        Scheduler s = f.scheduler();
        List<float[]> first = runLoop(f, s);
        // Leave the scheduler mid-run, then restart it: the second full run must be identical.
        s.setTimesteps(f.steps());
        runLoop(f, s, 3);
        s.setTimesteps(f.steps());
        List<float[]> second = runLoop(f, s);
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(first.get(i), second.get(i), name + " step " + i + " differs after setTimesteps");
        }
    }

    static List<float[]> runLoop(Fixture f, Scheduler s) {
        return runLoop(f, s, s.timesteps().length);
    }

    /** The fixtures' loop, written as a sampler would: one PointerScope per step, the sample retained. */
    static List<float[]> runLoop(Fixture f, Scheduler s, int steps) {
        double[] ts = s.timesteps();
        List<float[]> out = new ArrayList<>();
        Tensor sample = f.tensors().load("init_noise").mul(new Scalar(s.initNoiseSigma()));
        sample.retainReference();
        for (int i = 0; i < steps; i++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor output = toyModel(s.scaleModelInput(sample, i), ts[i]);
                int step = i;
                Supplier<Tensor> noise = f.tensors().contains("noises") ? () -> f.row("noises", step) : null;
                Tensor next = s.step(output, i, sample, noise);
                next.retainReference();
                sample.releaseReference();
                sample = next;
            }
            out.add(NoiseSchedule.toArray(sample));
        }
        sample.releaseReference();
        return out;
    }

    /** Checks row {@code i} of a stacked golden array; returns the worst |err| / max(1, |want|). */
    static double check(float[] stacked, int i, float[] got, String what) {
        int len = got.length;
        double worst = 0;
        int worstAt = 0;
        for (int k = 0; k < len; k++) {
            double want = stacked[i * len + k];
            double r = Math.abs(got[k] - want) / Math.max(1, Math.abs(want));
            if (!(r <= worst)) {
                worst = r;
                worstAt = k;
            }
        }
        double w = worst;
        int at = worstAt;
        assertTrue(w <= TOL, () -> what + ": element " + at + " is " + got[at] + ", diffusers " + stacked[i * len + at]
                + " (rel err " + w + ")");
        return worst;
    }

    static void assertClose(float[] want, float[] got, double rel, String what) {
        assertClose(want, got, rel, 0.0, what);
    }

    /** |got - want| <= rel * max(floor, |want|) element by element. */
    static void assertClose(float[] want, float[] got, double rel, double floor, String what) {
        assertEquals(want.length, got.length, what + " length");
        for (int k = 0; k < want.length; k++) {
            double err = Math.abs((double) got[k] - want[k]);
            int at = k;
            assertTrue(err <= rel * Math.max(floor, Math.abs(want[k])), () -> what + "[" + at + "] = " + got[at]
                    + ", diffusers " + want[at]);
        }
    }
}
