package io.ditcache.cli;

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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands on FLUX: the fixture (no guidance embedder: sampled without guidance, as FLUX.1-schnell) and the
 * same model with a guidance embedder (as FLUX.1-dev: embedded guidance, one branch), and a study of FLUX beside
 * SD3 reported by block group.
 */
class FluxCommandsTest {
    static final int WIDTH = 32;
    static final int TOKENS = 6;
    /** FLUX's hidden size in the fixture: heads x head dim. */
    static final int HIDDEN = 2 * 16;
    @TempDir
    static Path dir;
    static Path schnell;
    static Path dev;
    static Path prompts;

    @BeforeAll
    static void files() throws IOException {
        schnell = dir.resolve("flux");
        Files.createDirectories(schnell);
        copy("config.json", schnell.resolve("config.json"));
        copy("model.safetensors", schnell.resolve(FixtureDit.WEIGHTS));
        dev = dir.resolve("flux-dev");
        Files.createDirectories(dev);
        Files.writeString(dev.resolve("config.json"), Files.readString(schnell.resolve("config.json"))
                .replace("\"guidance_embeds\": false", "\"guidance_embeds\": true"));
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile f = SafetensorsFile.open(schnell.resolve(FixtureDit.WEIGHTS))) {
            for (String name : f.names()) {
                w.put(name, f.floats(name), f.info(name).dims());
            }
        }
        w.put("time_text_embed.guidance_embedder.linear_1.weight", TextModelCommandsTest.values(HIDDEN * 256, 0.05),
                HIDDEN, 256).put("time_text_embed.guidance_embedder.linear_1.bias", new float[HIDDEN], HIDDEN)
                .put("time_text_embed.guidance_embedder.linear_2.weight", TextModelCommandsTest.values(HIDDEN * HIDDEN,
                        0.1), HIDDEN, HIDDEN)
                .put("time_text_embed.guidance_embedder.linear_2.bias", new float[HIDDEN], HIDDEN);
        w.write(dev.resolve(FixtureDit.WEIGHTS));
        prompts = dir.resolve("prompts.safetensors");
        new SafetensorsWriter()
                .put("encoder_hidden_states", TextModelCommandsTest.values(2 * TOKENS * WIDTH, 1), 2, TOKENS, WIDTH)
                .put("pooled_projections", TextModelCommandsTest.values(2 * WIDTH, 0.5), 2, WIDTH).write(prompts);
    }

    static void copy(String resource, Path target) throws IOException {
        try (InputStream in = FluxCommandsTest.class.getResourceAsStream("/fixtures/flux/" + resource)) {
            Files.copy(in, target);
        }
    }

    static float[] generate(Path model, Path out, String... more) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model.toString(), "--embeddings",
                prompts.toString(), "--steps", "3", "--out", out.toString()));
        args.addAll(List.of(more));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.toString());
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("latents.safetensors"))) {
            return f.floats("latents");
        }
    }

    @Test
    void fluxDevSamplesWithEmbeddedGuidanceInOneBranch() throws IOException {
        float[] dflt = generate(dev, dir.resolve("dev"));
        JsonNode m = new ObjectMapper().readTree(dir.resolve("dev/metrics.json").toFile());
        assertEquals("embedded", m.get("guidance_kind").asText());
        assertEquals(3.5, m.get("guidance").asDouble(), "FLUX.1-dev's default scale");
        assertTrue(m.at("/scheduler/use_dynamic_shifting").asBoolean(), m.get("scheduler").toString());
        float[] five = generate(dev, dir.resolve("dev5"), "--guidance", "5");
        assertFalse(Arrays.equals(dflt, five), "the scale reaches the model");
        assertEquals(0, CliRun.of("profile", "--model", dev.toString(), "--embeddings", prompts.toString(),
                "--steps", "3", "--out", dir.resolve("dev-profile").toString()).exitCode());
    }

    @Test
    void fluxWithoutAGuidanceEmbedderSamplesWithoutGuidance() throws IOException {
        float[] plain = generate(schnell, dir.resolve("schnell"));
        JsonNode m = new ObjectMapper().readTree(dir.resolve("schnell/metrics.json").toFile());
        assertEquals("none", m.get("guidance_kind").asText());
        float[] asked = generate(schnell, dir.resolve("schnell-g"), "--guidance", "4");
        assertTrue(Arrays.equals(plain, asked), "no guidance whatever the scale: one branch");
    }

    @Test
    void aStudyOfFluxAndSd3ShowsDoubleSingleAndJointBlocks() throws IOException {
        Path sd3 = dir.resolve("sd3-small");
        Files.createDirectories(sd3);
        for (String f : List.of("config.json", "model.safetensors")) {
            try (InputStream in = getClass().getResourceAsStream("/fixtures/sd3-small/" + f)) {
                Files.copy(in, sd3.resolve(f.equals("config.json") ? f : FixtureDit.WEIGHTS));
            }
        }
        Path sd3Prompts = TextModelCommandsTest.embeddings(dir.resolve("sd3-prompts.safetensors"), 2,
                TextModelCommandsTest.WIDTH, false);
        Path out = dir.resolve("study");
        CliRun r = CliRun.of("study", "--model", schnell.toString(), "--model", sd3.toString(), "--embeddings",
                prompts.toString(), "--embeddings", sd3Prompts.toString(), "--conditions", "2", "--steps", "3,4",
                "--guidance", "2", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        String page = Files.readString(out.resolve("report.html"));
        int table = page.indexOf("<h2>Blocks by group</h2>");
        String groups = page.substring(table, page.indexOf("</table>", table));
        assertTrue(groups.contains("<td>flux (FluxTransformer2DModel)</td><td>0</td><td>double</td>"), groups);
        assertTrue(groups.contains("<td>flux (FluxTransformer2DModel)</td><td>1</td><td>single</td>"), groups);
        assertTrue(groups.contains("<td>sd3-small (SD3Transformer2DModel)</td><td>0-3</td><td>joint</td>"), groups);
    }
}
