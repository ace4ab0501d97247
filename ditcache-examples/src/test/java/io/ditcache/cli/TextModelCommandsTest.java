package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands on a text model (a small SD3 of the test resources): --embeddings, the model's sampling defaults,
 * latents where the digit metrics do not apply, and the refusals of options of the other conditioning kind.
 */
class TextModelCommandsTest {
    static final int WIDTH = 32;
    static final int POOLED = 64;
    static final int TOKENS = 5;
    @TempDir
    static Path dir;
    static Path sd3;
    static Path prompts;

    @BeforeAll
    static void files() throws IOException {
        sd3 = dir.resolve("sd3-small");
        Files.createDirectories(sd3);
        copy("config.json", sd3.resolve("config.json"));
        copy("model.safetensors", sd3.resolve(FixtureDit.WEIGHTS));
        prompts = embeddings(dir.resolve("prompts.safetensors"), 2, WIDTH, true);
    }

    static void copy(String resource, Path target) throws IOException {
        try (InputStream in = TextModelCommandsTest.class.getResourceAsStream("/fixtures/sd3-small/" + resource)) {
            Files.copy(in, target);
        }
    }

    static float[] values(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (Math.sin(i * 0.37) * scale);
        }
        return v;
    }

    /** {@code p} prompts of {@code width}, with pooled vectors and, if asked, one shared negative. */
    static Path embeddings(Path file, int p, int width, boolean negative) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .put("encoder_hidden_states", values(p * TOKENS * width, 1), p, TOKENS, width)
                .put("pooled_projections", values(p * POOLED, 0.5), p, POOLED);
        if (negative) {
            w.put("negative_encoder_hidden_states", new float[TOKENS * width], 1, TOKENS, width)
                    .put("negative_pooled_projections", new float[POOLED], 1, POOLED);
        }
        w.write(file);
        return file;
    }

    static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    @Test
    void aTextModelWithoutEmbeddingsIsOneLineNamingWhatToGive() {
        for (String command : List.of("profile", "generate", "bench")) {
            CliRun r = CliRun.of(command, "--model", sd3.toString(), "--out", dir.resolve("x-" + command).toString());
            assertEquals(2, r.exitCode(), r.toString());
            assertEquals(List.of(command + ": sd3-small: SD3Transformer2DModel is conditioned on text embeddings; "
                    + "give --embeddings FILE (safetensors: encoder_hidden_states, pooled_projections, ...)"),
                    r.errLines());
        }
        CliRun r = CliRun.of("study", "--model", sd3.toString(), "--out", dir.resolve("x-study").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("sd3-small: SD3Transformer2DModel is conditioned on text embeddings; give "
                + "--embeddings FILE"), r.err());
    }

    @Test
    void framesAreRefusedForImageModelsNamingTheModel() throws IOException {
        CliRun r = CliRun.of("profile", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--frames", "3",
                "--steps", "3", "--out", dir.resolve("frames").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(List.of("profile: --frames 3: SD3Transformer2DModel makes images (one frame)"), r.errLines());
        r = CliRun.of("profile", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--frames", "0",
                "--steps", "3", "--out", dir.resolve("frames0").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("--frames"), r.toString());
        Path dit = FixtureDit.checkpoint(dir.resolve("dit-frames"));
        r = CliRun.of("profile", "--model", dit.toString(), "--frames", "2", "--steps", "3", "--out",
                dir.resolve("dit-frames-out").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(List.of("profile: --frames 2: DiTTransformer2DModel is conditioned on class labels and makes "
                + "images (one frame)"), r.errLines());
    }

    @Test
    void optionsOfTheOtherConditioningKindAreRefused() throws IOException {
        CliRun r = CliRun.of("profile", "--model", sd3.toString(), "--embeddings", prompts.toString(),
                "--class-labels", "1", "--out", dir.resolve("labels").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(List.of("profile: --class-labels: sd3-small (SD3Transformer2DModel) is conditioned on text "
                + "embeddings, not class labels; give --embeddings FILE (safetensors: encoder_hidden_states, "
                + "pooled_projections, ...)"), r.errLines());
        Path dit = FixtureDit.checkpoint(dir.resolve("dit"));
        r = CliRun.of("profile", "--model", dit.toString(), "--embeddings", prompts.toString(), "--steps", "3",
                "--out", dir.resolve("dit-emb").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(List.of("profile: --embeddings " + prompts + ": dit (DiTTransformer2DModel) is conditioned on "
                + "class labels, not text embeddings; give --class-labels (or neither)"), r.errLines());
        r = CliRun.of("profile", "--model", sd3.toString(), "--embeddings", dir.resolve("absent.safetensors")
                .toString(), "--out", dir.resolve("absent").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("profile: --embeddings " + dir.resolve("absent.safetensors") + ": no such file"),
                r.err());
    }

    @Test
    void embeddingsTheModelCannotTakeAreOneLineNamingTheFile() throws IOException {
        Path wide = embeddings(dir.resolve("wide.safetensors"), 1, WIDTH + 4, false);
        CliRun r = CliRun.of("profile", "--model", sd3.toString(), "--embeddings", wide.toString(), "--steps", "3",
                "--out", dir.resolve("wide").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("profile: " + wide + ": SD3Transformer2DModel refuses these embeddings: "),
                r.err());
        assertTrue(r.err().contains("36") && r.err().contains("32"), "names the width and the expected one: "
                + r.err());
        Path bad = dir.resolve("bad.safetensors");
        new SafetensorsWriter().put("encoder_hidden_states", values(TOKENS * WIDTH, 1), TOKENS, WIDTH).write(bad);
        r = CliRun.of("generate", "--model", sd3.toString(), "--embeddings", bad.toString(), "--out",
                dir.resolve("bad").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(List.of("generate: " + bad + ": tensor \"encoder_hidden_states\" has shape [5, 32], expected "
                + "[prompts, tokens, width] with each >= 1"), r.errLines());
    }

    @Test
    void profileUsesTheModelsSamplingDefaults() throws IOException {
        Path out = dir.resolve("profile");
        CliRun r = CliRun.of("profile", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--seeds",
                "3,4", "--steps", "4", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.err().contains("2 prompts x 2 seeds; sampling: flowmatch, 4 steps, classifier-free guidance 7.0, "
                + "guided against the file's negative prompts"), r.err());
        JsonNode p = json(out.resolve("profile.json"));
        assertEquals("flowmatch", p.at("/scheduler/name").asText(), p.at("/scheduler").toString());
        assertEquals(3.0, p.at("/scheduler/shift").asDouble(), "SD3's scheduler config: shift 3");
        assertEquals(7.0, p.at("/scheduler/guidance").asDouble());
        assertEquals("SD3Transformer2DModel", p.at("/model/class_name").asText());
        assertTrue(Files.size(out.resolve("report.html")) > 0);
    }

    @Test
    void generateWritesLatentsAPreviewAndMetricsWithoutTheDigitMetrics() throws IOException {
        Path out = dir.resolve("generate");
        CliRun r = CliRun.of("generate", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--steps", "3",
                "--samples", "3", "--guidance", "2", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("latents.safetensors"))) {
            assertArrayEquals(new long[] {3, 4, 8, 8}, f.info("latents").dims());
            for (float v : f.floats("latents")) {
                assertTrue(Float.isFinite(v));
            }
        }
        assertTrue(Files.size(out.resolve("latents.png")) > 0);
        JsonNode m = json(out.resolve("metrics.json"));
        assertEquals(3, m.get("steps").asInt());
        assertEquals(2.0, m.get("guidance").asDouble());
        assertEquals(3, m.get("samples").asInt());
        assertTrue(m.get("seconds").asDouble() > 0);
        assertFalse(m.has("class_accuracy") || m.has("fd"), "no digit metrics for latents");
        assertFalse(Files.exists(out.resolve("samples.png")));
    }

    /** A text model's cached samples are timed against the same samples uncached, and the ceiling is said. */
    @Test
    void generateWithAPolicyTimesTheSameSamplesUncached() throws IOException {
        Path out = dir.resolve("generate-fora");
        Path policy = dir.resolve("fora2.json");
        Files.writeString(policy, "{\"name\": \"fora\", \"interval\": 2}");
        CliRun r = CliRun.of("generate", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--steps", "4",
                "--samples", "2", "--policy", policy.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("of block evaluations skipped, which allows a speedup of at most"), r.out());
        assertTrue(r.out().contains("uncached: ") && r.out().contains("s for the same samples"), r.out());
        JsonNode cache = json(out.resolve("metrics.json")).get("cache");
        double ceiling = cache.get("speedup_ceiling").asDouble();
        assertEquals(1 / (1 - cache.get("skipped_fraction").asDouble()), ceiling, 1e-9);
        assertTrue(cache.get("uncached_seconds").asDouble() > 0, cache.toString());
        assertTrue(cache.get("speedup").asDouble() > 0, cache.toString());
    }

    @Test
    void benchMeasuresFidelityOnLatentsWithTheSameColumns() throws IOException {
        Path out = dir.resolve("bench");
        CliRun r = CliRun.of("bench", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--steps", "4",
                "--repeats", "1", "--policies", "fora", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> csv = Files.readAllLines(out.resolve("shootout.csv"));
        assertEquals(io.ditcache.report.ShootoutReport.CSV_HEADER, csv.get(0));
        assertTrue(csv.size() > 1, csv.toString());
        for (String row : csv.subList(1, csv.size())) {
            String[] c = row.split(",", -1);
            assertTrue(c[0].equals("fora") && c[7].isEmpty() && c[8].isEmpty(), "class_accuracy and fd empty: " + row);
        }
        assertTrue(json(out.resolve("shootout.json")).get("note").asText().contains("do not apply to latents"));
    }

    @Test
    void aStudyOfATextModelReportsItsBlocksByGroup() throws IOException {
        Path out = dir.resolve("study");
        CliRun r = CliRun.of("study", "--model", sd3.toString(), "--embeddings", prompts.toString(), "--conditions",
                "2", "--steps", "3,4", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        String page = Files.readString(out.resolve("report.html"));
        assertTrue(page.contains("<h2>Blocks by group</h2>"), "group table");
        assertTrue(page.contains("<td>0-3</td><td>joint</td>"), "SD3's 4 joint blocks");
        JsonNode plan = json(out.resolve("study.json"));
        assertTrue(plan.toString().contains("flowmatch"), "a flow model's default scheduler");
        Path other = embeddings(dir.resolve("other.safetensors"), 2, WIDTH, false);
        r = CliRun.of("study", "--model", sd3.toString(), "--embeddings", other.toString(), "--conditions", "2",
                "--steps", "3,4", "--out", out.toString());
        assertEquals(1, r.exitCode(), "other prompts do not resume this study: " + r);
        assertTrue(r.err().contains("conditioned on prompts"), r.err());
    }

    @Test
    void runTakesTheConditioningInputsTheInputsFileLacksFromTheEmbeddings() throws IOException {
        float[] latents = values(4 * 8 * 8, 0.8);
        Path full = dir.resolve("full.safetensors");
        new SafetensorsWriter().put("hidden_states", latents, 1, 4, 8, 8).put("timestep", new float[] {500f}, 1)
                .put("encoder_hidden_states", values(TOKENS * WIDTH, 1), 1, TOKENS, WIDTH)
                .put("pooled_projections", values(POOLED, 0.5), 1, POOLED).write(full);
        Path partial = dir.resolve("partial.safetensors");
        new SafetensorsWriter().put("hidden_states", latents, 1, 4, 8, 8).put("timestep", new float[] {500f}, 1)
                .write(partial);
        Path one = embeddings(dir.resolve("one.safetensors"), 1, WIDTH, false);
        CliRun a = CliRun.of("run", "--model", sd3.toString(), "--inputs", full.toString(), "--out",
                dir.resolve("a.safetensors").toString());
        CliRun b = CliRun.of("run", "--model", sd3.toString(), "--inputs", partial.toString(), "--embeddings",
                one.toString(), "--out", dir.resolve("b.safetensors").toString());
        assertEquals(0, a.exitCode(), a.toString());
        assertEquals(0, b.exitCode(), b.toString());
        try (SafetensorsFile x = SafetensorsFile.open(dir.resolve("a.safetensors"));
                SafetensorsFile y = SafetensorsFile.open(dir.resolve("b.safetensors"))) {
            assertArrayEquals(x.floats("sample"), y.floats("sample"));
        }
        CliRun c = CliRun.of("run", "--model", sd3.toString(), "--inputs", partial.toString(), "--out",
                dir.resolve("c.safetensors").toString());
        assertEquals(1, c.exitCode(), c.toString());
        assertTrue(c.err().contains("missing input tensor \"encoder_hidden_states\"") && c.err().contains(
                "--embeddings"), c.err());
    }

    @Test
    void inspectShowsTheJointBlocks() {
        CliRun r = CliRun.of("inspect", "--model", sd3.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("class: SD3Transformer2DModel (family sd3)"), r.out());
        assertTrue(r.out().contains("  blocks 0-2 joint (self-attention, feed-forward, context-attention, "
                + "context-feed-forward; image + context streams"), r.out());
        assertTrue(r.out().contains("  block 3 joint (self-attention, feed-forward; image + context streams"), r.out());
    }

    @Test
    void aStudyOfModelsOfDifferentFamiliesReportsEachByGroup() throws IOException {
        Path pixart = dir.resolve("pixart");
        Files.createDirectories(pixart);
        try (InputStream in = getClass().getResourceAsStream("/fixtures/pixart/config.json")) {
            Files.copy(in, pixart.resolve("config.json"));
        }
        try (InputStream in = getClass().getResourceAsStream("/fixtures/pixart/model.safetensors")) {
            Files.copy(in, pixart.resolve(FixtureDit.WEIGHTS));
        }
        Path captions = dir.resolve("captions.safetensors");
        new SafetensorsWriter().put("encoder_hidden_states", values(2 * TOKENS * 32, 1), 2, TOKENS, 32)
                .put("encoder_attention_mask", new long[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 2, TOKENS).write(captions);
        Path dit = FixtureDit.checkpoint(dir.resolve("dit-study"));
        Path out = dir.resolve("families");
        CliRun guided = CliRun.of("study", "--model", dit.toString(), "--model", pixart.toString(), "--embeddings",
                captions.toString(), "--conditions", "2", "--steps", "3,4", "--schedulers", "ddim", "--out",
                out.toString());
        assertEquals(2, guided.exitCode(), guided.toString());
        assertEquals(List.of("study: --guidance: the models' own guidance scales differ {dit-study=1.25, pixart=4.5}; "
                + "a study has one, give it"), guided.errLines());
        CliRun r = CliRun.of("study", "--model", dit.toString(), "--model", pixart.toString(), "--embeddings",
                captions.toString(), "--conditions", "2", "--steps", "3,4", "--schedulers", "ddim", "--guidance", "2",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        String page = Files.readString(out.resolve("report.html"));
        int table = page.indexOf("<h2>Blocks by group</h2>");
        String groups = page.substring(table, page.indexOf("</table>", table));
        assertTrue(groups.contains("<td>dit-study (DiTTransformer2DModel)</td><td>0-3</td><td>plain</td>"), groups);
        assertTrue(groups.contains("<td>pixart (PixArtTransformer2DModel)</td><td>0-2</td><td>plain</td>"), groups);
        CliRun flow = CliRun.of("study", "--model", sd3.toString(), "--model", pixart.toString(), "--embeddings",
                prompts.toString(), "--embeddings", captions.toString(), "--conditions", "2", "--steps", "3",
                "--guidance", "2", "--out", dir.resolve("flow").toString());
        assertEquals(2, flow.exitCode(), flow.toString());
        assertEquals(List.of("study: --schedulers: no scheduler fits every model (sd3-small allows [flowmatch], "
                + "pixart allows [ddim, ddpm, dpm++, euler]); study them apart"), flow.errLines());
    }

    @Test
    void theCheckpointsSchedulerConfigTakesPrecedenceOverTheFamilysDefault() throws IOException {
        Path ckpt = dir.resolve("sd3-shift2");
        Files.createDirectories(ckpt.resolve("scheduler"));
        Files.copy(sd3.resolve("config.json"), ckpt.resolve("config.json"));
        Files.copy(sd3.resolve(FixtureDit.WEIGHTS), ckpt.resolve(FixtureDit.WEIGHTS));
        Path sched = ckpt.resolve("scheduler/scheduler_config.json");
        Files.writeString(sched, "{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 2.0}");
        Path out = dir.resolve("shift2");
        CliRun r = CliRun.of("profile", "--model", ckpt.toString(), "--embeddings", prompts.toString(), "--steps",
                "3", "--guidance", "1", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode p = json(out.resolve("profile.json"));
        assertEquals(2.0, p.at("/scheduler/shift").asDouble(), p.at("/scheduler").toString());
        assertEquals(1.0, p.at("/scheduler/guidance").asDouble());
        Files.writeString(sched, "{\"_class_name\": \"DPMSolverSDEScheduler\"}");
        r = CliRun.of("profile", "--model", ckpt.toString(), "--embeddings", prompts.toString(), "--steps", "3",
                "--out", dir.resolve("sde").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(List.of("profile: " + sched + ": _class_name \"DPMSolverSDEScheduler\" is a scheduler ditcache "
                + "does not have; choose one with --scheduler [ddim, ddpm, dpm++, euler, flowmatch, rflow, "
                + "cogvideox-ddim]"), r.errLines());
    }
}
