package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands on CogVideoX (the {@code cogvideox} fixture: [B, F, C, H, W] latents, 8 text tokens): {@code run
 * --capture} on diffusers' inputs gives diffusers' output and writes the text rows as the TEXT stream (ek, ev, ea,
 * which contract checks compare with the golden add_k, add_v, a_ctx); {@code profile} samples with the family's
 * CogVideoXDDIMScheduler at a chosen frame count.
 */
class CogVideoXCommandsTest {
    static final int TEXT = 8;
    static final int TOKENS = 8;
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void files() throws IOException {
        model = dir.resolve("cogvideox");
        Files.createDirectories(model);
        copy("config.json", model.resolve("config.json"));
        copy("model.safetensors", model.resolve(FixtureDit.WEIGHTS));
        copy("golden.safetensors", dir.resolve("golden.safetensors"));
    }

    static void copy(String resource, Path target) throws IOException {
        try (InputStream in = CogVideoXCommandsTest.class.getResourceAsStream("/fixtures/cogvideox/" + resource)) {
            Files.copy(in, target);
        }
    }

    @Test
    void runCapturesBothStreamsAsDiffusersComputesThem() throws IOException {
        Path inputs = dir.resolve("inputs.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (String name : new String[] {"hidden_states", "encoder_hidden_states"}) {
                w.put(name, g.floats("input." + name), g.info("input." + name).dims());
            }
            long[] t = g.longs("input.timestep");
            w.put("timestep", new float[] {t[0], t[1]}, 2);
        }
        w.write(inputs);
        Path out = dir.resolve("run.safetensors");
        CliRun r = CliRun.of("run", "--model", model.toString(), "--inputs", inputs.toString(), "--capture", "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        Map<String, String> names = Map.of("sample", "output.sample", "block.1.k", "block.1.k", "block.0.a",
                "block.0.a", "block.0.ek", "block.0.add_k", "block.1.ev", "block.1.add_v", "block.1.ea",
                "block.1.a_ctx");
        try (SafetensorsFile got = SafetensorsFile.open(out);
                SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (Map.Entry<String, String> e : names.entrySet()) {
                float[] a = got.floats(e.getKey());
                float[] b = g.floats(e.getValue());
                assertEquals(b.length, a.length, e.getKey());
                double worst = 0;
                for (int i = 0; i < a.length; i++) {
                    worst = Math.max(worst, Math.abs(a[i] - b[i]));
                }
                assertTrue(worst <= 1e-4, e.getKey() + " vs " + e.getValue() + " max abs err " + worst);
            }
        }
    }

    @Test
    void profileSamplesWithTheFamilysSchedulerAtTheFramesAskedFor() throws IOException {
        Path prompts = dir.resolve("prompts.safetensors");
        new SafetensorsWriter().put("encoder_hidden_states", TextModelCommandsTest.values(2 * TOKENS * TEXT, 1), 2,
                TOKENS, TEXT).write(prompts);
        Path out = dir.resolve("profile");
        CliRun r = CliRun.of("profile", "--model", model.toString(), "--embeddings", prompts.toString(), "--seeds",
                "3", "--steps", "3", "--frames", "3", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode p = new ObjectMapper().readTree(out.resolve("profile.json").toFile());
        assertEquals("cogvideox-ddim", p.at("/scheduler/name").asText(), p.at("/scheduler").toString());
        assertEquals("v_prediction", p.at("/scheduler/prediction_type").asText());
        assertEquals(6.0, p.at("/scheduler/guidance").asDouble());
        assertEquals("CogVideoXTransformer3DModel", p.at("/model/class_name").asText());
    }

    @Test
    void aStudyOfCogVideoXUsesItsOwnSchedulerAndShowsItsBlocks() throws IOException {
        Path prompts = dir.resolve("study-prompts.safetensors");
        new SafetensorsWriter().put("encoder_hidden_states", TextModelCommandsTest.values(2 * TOKENS * TEXT, 0.7), 2,
                TOKENS, TEXT).write(prompts);
        Path out = dir.resolve("study");
        CliRun r = CliRun.of("study", "--model", model.toString(), "--embeddings", prompts.toString(),
                "--conditions", "2", "--steps", "3,4", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        String plan = Files.readString(out.resolve("study.json"));
        assertTrue(plan.contains("cogvideox-ddim"), "CogVideoX's own scheduler, the only one it allows");
        String page = Files.readString(out.resolve("report.html"));
        assertTrue(page.contains("<td>0-1</td><td>plain</td>"), "CogVideoX's 2 blocks");
    }
}
