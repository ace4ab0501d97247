package io.ditcache.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Names, configuration errors, config files and the lifecycle rules of {@link Scheduler}. */
class SchedulersTest {

    @Test
    void namesAndAliases() {
        assertEquals(List.of("ddim", "ddpm", "dpm++", "euler", "flowmatch", "rflow", "cogvideox-ddim"),
                Schedulers.names());
        for (String name : Schedulers.names()) {
            assertEquals(name, Schedulers.create(name, Map.of()).name());
            assertEquals(name, Schedulers.create(name, Map.of()).describe().get("name"));
        }
        assertEquals("euler", Schedulers.create("EulerDiscreteScheduler", Map.of()).name());
        assertEquals("ddim", Schedulers.create("DDIM", Map.of()).name());
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedulers.create("heun", Map.of()));
        assertTrue(e.getMessage().contains("\"heun\""), e.getMessage());
        assertTrue(e.getMessage().contains("ddim, ddpm, dpm++, euler, flowmatch, rflow"), e.getMessage());
    }

    @Test
    void unsupportedValueNamesKeyValueAndAllowed() {
        assertRejected("ddim", Map.of("beta_schedule", "sigmoid"),
                "ddim", "beta_schedule", "\"sigmoid\"", "\"linear\", \"scaled_linear\", \"squaredcos_cap_v2\"");

        assertRejected("euler", Map.of("use_karras_sigmas", true),
                "euler", "use_karras_sigmas", "true", "allowed: false");

        assertRejected("dpm++", Map.of("solver_order", 3), "dpm++", "solver_order", "3", "1, 2");

        assertRejected("dpm++", Map.of("algorithm_type", "sde-dpmsolver++"),
                "algorithm_type", "sde-dpmsolver++", "\"dpmsolver++\"");

        assertRejected("ddpm", Map.of("variance_type", "learned_range"),
                "variance_type", "learned_range", "fixed_small");

        assertRejected("ddpm", Map.of("thresholding", true), "thresholding", "true");

        assertRejected("ddim", Map.of("trained_betas", List.of(0.1, 0.2)), "trained_betas", "null");

        assertRejected("flowmatch", Map.of("invert_sigmas", true), "invert_sigmas");
    }

    @Test
    void badTypesAndRangesAreRejected() {
        assertRejected("ddim", Map.of("num_train_timesteps", "many"),
                "num_train_timesteps", "\"many\"", "integer");

        assertRejected("ddim", Map.of("num_train_timesteps", 1000.5), "num_train_timesteps", "1000.5", "integer");

        assertRejected("flowmatch", Map.of("shift", -3.0), "shift", "-3.0", "> 0");

        assertRejected("ddim", Map.of("clip_sample", "yes"), "clip_sample", "\"yes\"", "true or false");

        assertRejected("euler", Map.of("timestep_spacing", "uniform"),
                "timestep_spacing", "\"uniform\"", "\"linspace\", \"leading\", \"trailing\"");

        Scheduler ddim = Schedulers.create("ddim", Map.of());
        assertThrows(IllegalArgumentException.class, () -> ddim.setTimesteps(0));
        assertThrows(IllegalArgumentException.class, () -> ddim.setTimesteps(1001));
        Scheduler offset = Schedulers.create("ddim", Map.of("steps_offset", 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> offset.setTimesteps(1000));
        assertMessage(e, "1000", "steps_offset");
    }

    @Test
    void configKeysOfOtherSchedulersAndMetadataAreIgnored() {
        Map<String, Object> config = new HashMap<>();
        config.put("_class_name", "DDIMScheduler");
        config.put("_diffusers_version", "0.40.0.dev0");
        config.put("clip_sample", false);
        config.put("shift_terminal", null);
        Scheduler euler = Schedulers.create("euler", config);
        euler.setTimesteps(10);
        assertEquals(10, euler.timesteps().length);
    }

    @Test
    void supportedNonDefaultsAreApplied() {
        Scheduler ddim = Schedulers.create("ddim", Map.of("timestep_spacing", "trailing"));
        ddim.setTimesteps(4);
        assertArrayEquals(new double[] {999, 749, 499, 249}, ddim.timesteps());

        ddim = Schedulers.create("ddim", Map.of("steps_offset", 1));
        ddim.setTimesteps(4);
        assertArrayEquals(new double[] {751, 501, 251, 1}, ddim.timesteps());

        Scheduler ddpm = Schedulers.create("ddpm", Map.of("timestep_spacing", "linspace"));
        ddpm.setTimesteps(4);
        assertArrayEquals(new double[] {999, 666, 333, 0}, ddpm.timesteps());

        Scheduler euler = Schedulers.create("euler", Map.of("timestep_spacing", "leading", "steps_offset", 1));
        euler.setTimesteps(4);
        assertArrayEquals(new double[] {751, 501, 251, 1}, euler.timesteps());
        double maxSigma = ((EulerDiscreteScheduler) euler).sigmas()[0];
        assertEquals(Math.sqrt(maxSigma * maxSigma + 1), euler.initNoiseSigma(), 1e-5 * maxSigma);

        Scheduler flow = Schedulers.create("flowmatch", Map.of("shift", 3));
        flow.setTimesteps(2);
        assertEquals(1000.0, flow.timesteps()[0]);
        assertEquals(3.0, flow.describe().get("shift"));

        Scheduler scaled = Schedulers.create("ddim", Map.of("beta_schedule", "scaled_linear",
                "beta_start", 0.00085, "beta_end", 0.012));
        float[] betas = ((DdimScheduler) scaled).schedule().betas;
        assertEquals(0.00085, betas[0], 1e-9);
        assertEquals(0.012, betas[999], 1e-8);

        float[] cos = ((DdimScheduler) Schedulers.create("ddim", Map.of("beta_schedule", "squaredcos_cap_v2")))
                .schedule().betas;
        assertEquals(0.999f, cos[999]);
        assertTrue(cos[0] > 0 && cos[0] < 1e-3, "first cosine beta " + cos[0]);
    }

    @Test
    void fromConfigFileReadsDiffusersJson(@TempDir Path dir) throws IOException {
        SchedulerFixtureTest.Fixture f = SchedulerFixtureTest.fixture("dpmsolver20");
        Path file = dir.resolve("scheduler_config.json");
        // Python's json writes lambda_min_clipped = -Infinity; the file must still load.
        String json = new ObjectMapper().writeValueAsString(f.config())
                .replace("\"lambda_min_clipped\":\"-Infinity\"", "\"lambda_min_clipped\":-Infinity");
        Files.writeString(file, json);
        assertTrue(Files.readString(file).contains("-Infinity"));
        Scheduler s = Schedulers.fromConfigFile("dpm++", file);
        s.setTimesteps(f.steps());
        assertArrayEquals(SchedulerFixtureTest.doubles(f.tensors(), "timesteps"), s.timesteps());

        // A DDIM config whose timestep_spacing is only a default: Euler keeps its own "linspace".
        Path ddimFile = dir.resolve("ddim.json");
        Files.writeString(ddimFile, new ObjectMapper().writeValueAsString(
                SchedulerFixtureTest.fixture("ddim20").config()));
        Scheduler euler = Schedulers.fromConfigFile("euler", ddimFile);
        assertEquals("linspace", euler.describe().get("timestep_spacing"));
    }

    @Test
    void fromConfigFileErrorsNameTheFile(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad_value.json");
        Files.writeString(bad, "{\"beta_schedule\": \"laplace\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedulers.fromConfigFile("ddim", bad));
        assertMessage(e, bad.toString(), "beta_schedule", "laplace", "linear");

        Path notJson = dir.resolve("not_json.json");
        Files.writeString(notJson, "{\"shift\": ");
        IOException io = assertThrows(IOException.class, () -> Schedulers.fromConfigFile("flowmatch", notJson));
        assertTrue(io.getMessage().contains(notJson.toString()), io.getMessage());

        Path array = dir.resolve("array.json");
        Files.writeString(array, "[1, 2]");
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.fromConfigFile("flowmatch", array));
        assertMessage(e, array.toString(), "JSON object");

        Path missing = dir.resolve("missing.json");
        io = assertThrows(IOException.class, () -> Schedulers.fromConfigFile("flowmatch", missing));
        assertTrue(io.getMessage().contains(missing.toString()), io.getMessage());
    }

    @Test
    void aTrainingScheduleBeyondTheBoundIsRefusedBeforeItsTablesAreBuilt(@TempDir Path dir) throws IOException {
        Path huge = dir.resolve("scheduler_config.json");
        Files.writeString(huge, "{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 2147483647}");
        for (String name : List.of("ddim", "ddpm", "dpm++", "euler", "flowmatch")) {
            IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(IllegalArgumentException.class, () -> Schedulers.fromConfigFile(name, huge)));
            assertMessage(e, huge.toString(), "\"num_train_timesteps\" = 2147483647", "an integer from 2 to 1000000");
        }
    }

    @Test
    void parserErrorsAreOneLineFromTheFile(@TempDir Path dir) throws IOException {
        Path notJson = dir.resolve("scheduler_config.json");
        Files.writeString(notJson, "{\"shift\": 3.0,\n \"shift\": 1.0}");
        IOException e = assertThrows(IOException.class, () -> Schedulers.readConfig(notJson));
        assertEquals(notJson + ": not valid JSON at line 2, column 9: Duplicate field 'shift'", e.getMessage());
        Files.writeString(notJson, "{\"shift\": ");
        e = assertThrows(IOException.class, () -> Schedulers.readConfig(notJson));
        assertTrue(e.getMessage().startsWith(notJson + ": not valid JSON at line 1"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddim", "ddpm", "dpm++", "euler", "flowmatch"})
    void useBeforeSetTimestepsFails(String name) {
        Scheduler s = Schedulers.create(name, Map.of());
        assertThrows(IllegalStateException.class, s::timesteps);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.zeros(1, 4, 2, 2);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> s.step(x, 0, x, () -> x));
            assertTrue(e.getMessage().contains("setTimesteps"), e.getMessage());
            s.setTimesteps(5);
            assertThrows(IndexOutOfBoundsException.class, () -> s.step(x, 5, x, () -> x));
            assertThrows(IllegalArgumentException.class, () -> s.step(torch.zeros(1, 4, 2, 3), 0, x, () -> x));
        }
    }

    @Test
    void multistepSolverRequiresStepsInOrder() {
        Scheduler s = Schedulers.create("dpm++", Map.of());
        s.setTimesteps(5);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.ones(1, 4, 2, 2);
            s.step(x, 0, x, null);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.step(x, 2, x, null));
            assertMessage(e, "expects step 1", "got 2");
            s.setTimesteps(5);
            s.step(x, 0, x, null);
        }
    }

    @Test
    void ddpmNeedsNoiseExceptAtTimestepZero() {
        Scheduler s = Schedulers.create("ddpm", Map.of());
        s.setTimesteps(2);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.ones(1, 4, 2, 2);
            NullPointerException e = assertThrows(NullPointerException.class, () -> s.step(x, 0, x, null));
            assertTrue(e.getMessage().contains("noise"), e.getMessage());
            s.step(x, 1, x, null); // timestep 0: no noise drawn
        }
    }

    @Test
    void stepResultBelongsToTheCallersScope() {
        Scheduler s = Schedulers.create("euler", Map.of());
        s.setTimesteps(4);
        Tensor x = torch.ones(1, 4, 2, 2);
        Tensor scoped;
        Tensor kept;
        try (PointerScope scope = new PointerScope()) {
            scoped = s.step(x, 0, x, null);
            kept = s.step(x, 0, x, null);
            kept.retainReference();
        }
        assertTrue(scoped.isNull(), "released with the caller's scope");
        assertFalse(kept.isNull(), "retained past the caller's scope");
        assertEquals(NoiseSchedule.toArray(kept)[0], NoiseSchedule.toArray(s.step(x, 0, x, null))[0]);
        kept.releaseReference();
        assertTrue(kept.isNull());

        Tensor unscoped = s.scaleModelInput(x, 1);
        assertFalse(unscoped.isNull(), "owned by the caller without a scope");
        unscoped.close();
        assertTrue(unscoped.isNull());
        assertFalse(x.isNull(), "inputs are never released");
    }

    @Test
    void describeIsPlainData() throws IOException {
        for (String name : Schedulers.names()) {
            Map<String, Object> d = Schedulers.create(name, Map.of()).describe();
            String json = new ObjectMapper().writeValueAsString(d);
            assertTrue(json.contains("\"name\":\"" + name + "\""), json);
            // The description is itself a valid configuration of the same scheduler.
            Scheduler again = Schedulers.create(name, d);
            assertEquals(d, again.describe());
        }
    }

    @Test
    void betasOfOneOrMoreAndSchedulesWhoseAlphasUnderflowAreRefused() {
        for (String name : List.of("ddim", "ddpm", "dpm++", "euler")) {
            // found by fuzzing: 1e300 overflowed float in libtorch; 5 made alphas_cumprod negative; 9842 steps of
            // the default betas underflow alphas_cumprod to 0, so the initial sigma was infinite
            assertRejected(name, Map.of("beta_end", 1e300), "\"beta_end\" = 1.0E300", "(0, 1)");
            assertRejected(name, Map.of("beta_start", 0.5, "beta_end", 5), "\"beta_end\" = 5", "(0, 1)");
            assertRejected(name, Map.of("beta_start", 1.0), "\"beta_start\" = 1", "(0, 1)");
            assertRejected(name, Map.of("num_train_timesteps", 9842), "\"num_train_timesteps\" = 9842",
                    "sigmas stay finite in float32", "alphas_cumprod reaches");
        }
        Scheduler ok = Schedulers.create("euler", Map.of("num_train_timesteps", 2000));
        ok.setTimesteps(10);
        assertTrue(Double.isFinite(ok.initNoiseSigma()), "a long schedule that does not underflow still works");
    }

    /** Creating {@code name} with {@code config} fails with a message that names all of {@code parts}. */
    private static void assertRejected(String name, Map<String, ?> config, String... parts) {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Schedulers.create(name, config)), parts);
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks <" + p + ">: " + e.getMessage());
        }
    }
}
