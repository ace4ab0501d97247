package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Latte on the command line: {@code run --capture} on diffusers' named inputs writes the sample and every block's
 * k, v, a (spatial block 0, temporal block 1) as diffusers' golden tensors (max abs error 1e-4, same elements in
 * the same order), and a wrong frame count is one line naming the file.
 */
class LatteCommandsTest {
    @TempDir
    Path dir;

    static void copy(String resource, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try (InputStream in = LatteCommandsTest.class.getResourceAsStream(resource)) {
            Files.copy(in, target);
        }
    }

    static double maxAbsDiff(float[] want, float[] got) {
        assertEquals(want.length, got.length, "element count");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }

    @Test
    void runCapturesEverySpatialAndTemporalBlockAsDiffusers() throws IOException {
        Path model = dir.resolve("latte");
        copy("/fixtures/latte/config.json", model.resolve("config.json"));
        copy("/fixtures/latte/model.safetensors", model.resolve(FixtureDit.WEIGHTS));
        Path golden = dir.resolve("golden.safetensors");
        copy("/fixtures/latte/golden.safetensors", golden);
        Path inputs = dir.resolve("in.safetensors");
        Path shortInputs = dir.resolve("short.safetensors");
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (String name : new String[] {"hidden_states", "encoder_hidden_states", "timestep"}) {
                in.put(name, g.load("input." + name));
            }
            SafetensorsWriter.write(inputs, in, Map.of("format", "pt"));
            in.put("hidden_states", g.load("input.hidden_states").narrow(2, 0, 5).contiguous());
            SafetensorsWriter.write(shortInputs, in, Map.of("format", "pt"));
        }
        Path out = dir.resolve("out.safetensors");
        CliRun run = CliRun.of("run", "--model", model.toString(), "--inputs", inputs.toString(), "--out",
                out.toString(), "--capture");
        assertEquals(0, run.exitCode(), run.toString());
        try (SafetensorsFile g = SafetensorsFile.open(golden); SafetensorsFile o = SafetensorsFile.open(out)) {
            double worst = maxAbsDiff(g.floats("output.sample"), o.floats("sample"));
            for (int i = 0; i < 2; i++) {
                for (String kind : new String[] {"k", "v", "a"}) {
                    String name = "block." + i + "." + kind;
                    worst = Math.max(worst, maxAbsDiff(g.floats(name), o.floats(name)));
                }
            }
            assertTrue(worst <= 1e-4, "max abs err " + worst);
        }

        CliRun bad = CliRun.of("run", "--model", model.toString(), "--inputs", shortInputs.toString(), "--out",
                dir.resolve("bad.safetensors").toString());
        assertEquals(1, bad.errLines().size(), bad.toString());
        assertTrue(bad.exitCode() != 0 && bad.err().contains("short.safetensors") && bad.err().contains(
                "video_length 16") && bad.err().contains("got 5"), bad.toString());
        assertTrue(!Files.exists(dir.resolve("bad.safetensors")));
    }

    @Test
    void profileSamplesTheVideoWithLattesDefaultsAndReportsSpatialAndTemporalBlocks() throws IOException {
        Path model = dir.resolve("latte");
        copy("/fixtures/latte/config.json", model.resolve("config.json"));
        copy("/fixtures/latte/model.safetensors", model.resolve(FixtureDit.WEIGHTS));
        Path prompts = dir.resolve("prompts.safetensors");
        float[] text = new float[2 * 5 * 8];
        for (int i = 0; i < text.length; i++) {
            text[i] = (float) Math.sin(i * 0.37);
        }
        new SafetensorsWriter().put("encoder_hidden_states", text, 2, 5, 8)
                .put("negative_encoder_hidden_states", new float[5 * 8], 1, 5, 8).write(prompts);
        Path out = dir.resolve("profile");
        CliRun r = CliRun.of("profile", "--model", model.toString(), "--embeddings", prompts.toString(), "--seeds",
                "3", "--steps", "3", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.err().contains("ddim, 3 steps, classifier-free guidance 7.5"), r.err());
        com.fasterxml.jackson.databind.JsonNode p = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                out.resolve("profile.json").toFile());
        assertEquals("LatteTransformer3DModel", p.at("/model/class_name").asText());
        assertEquals(2, p.at("/layers").asInt(), p.toString().substring(0, 400));
        assertTrue(Files.size(out.resolve("report.html")) > 0);

        CliRun one = CliRun.of("profile", "--model", model.toString(), "--embeddings", prompts.toString(), "--seeds",
                "3", "--steps", "2", "--frames", "1", "--out", dir.resolve("one").toString());
        assertEquals(0, one.exitCode(), one.toString());
        CliRun five = CliRun.of("profile", "--model", model.toString(), "--embeddings", prompts.toString(),
                "--seeds", "3", "--steps", "2", "--frames", "5", "--out", dir.resolve("five").toString());
        assertEquals(2, five.exitCode(), five.toString());
        assertTrue(five.err().contains("--frames 5") && five.err().contains("video_length 16"), five.toString());
    }
}
