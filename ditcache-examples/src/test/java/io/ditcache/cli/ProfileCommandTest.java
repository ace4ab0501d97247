package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.RedundancyProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ditcache profile} on the fixture DiT: the files it writes, and non-finite activations. */
class ProfileCommandTest {
    static final int STEPS = 3;
    /** A strict parser: NaN and Infinity are not JSON. */
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void writesProfileCsvReportAndImages() throws Exception {
        Path out = dir.resolve("report");
        CliRun r = profile(FixtureDit.checkpoint(dir.resolve("dit")), out);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err(), r::toString);
        assertTrue(r.out().contains("4 layers x 3 steps"), r::toString);
        assertTrue(r.out().contains("wrote " + out.toAbsolutePath().resolve("report.html")), r::toString);
        assertFalse(r.out().contains("warning"), r::toString);

        JsonNode root = JSON.readTree(out.resolve("profile.json").toFile());
        assertEquals(RedundancyProfile.FORMAT, root.path("format").asText());
        assertEquals(FixtureDit.LAYERS, root.path("layers").asInt());
        assertEquals(STEPS, root.path("steps").asInt());
        assertEquals(1, root.path("runs").asInt());
        assertTrue(root.path("series").size() > 0, "series");
        for (JsonNode s : root.path("series")) {
            assertEquals("COND", s.path("branch").asText(), "guidance 1 runs the conditional branch only");
            for (String matrix : List.of("count", "mean", "m2", "nonfinite")) {
                assertMatrixShape(s, matrix);
            }
            boolean blockZeroOnly = s.path("kind").asText().equals("MODULATED_INPUT");
            for (int layer = 0; layer < FixtureDit.LAYERS; layer++) {
                int want = blockZeroOnly && layer > 0 ? 0 : 1;
                s.path("count").get(layer).forEach(c -> assertEquals(want, c.asInt(), "one observation per cell"));
            }
        }
        List<String> csv = Files.readAllLines(out.resolve("profile.csv"));
        assertEquals("kind,stream,branch,metric,layer,step,count,mean,std,cv,nonfinite", csv.get(0));
        assertEquals(1 + root.path("series").size() * FixtureDit.LAYERS * (STEPS - 1), csv.size(), "one row per cell");
        assertTrue(Files.readString(out.resolve("report.html")).contains("<img"), "report.html shows images");
        List<String> pngs = pngs(out);
        assertTrue(pngs.contains("curves_IMAGE_COND.png"), pngs::toString);
        assertTrue(pngs.contains("heatmap_K_IMAGE_COND_L1_MEAN.png"), pngs::toString);
        for (String png : pngs) {
            byte[] head = Arrays.copyOf(Files.readAllBytes(out.resolve(png)), 4);
            assertEquals("\u0089PNG", new String(head, java.nio.charset.StandardCharsets.ISO_8859_1), png);
        }
    }

    @Test
    void nonFiniteActivationsAreCountedNotAveraged() throws Exception {
        String poisoned = "transformer_blocks.1.attn1.to_k.weight";
        Path model = FixtureDit.editedCheckpoint(dir.resolve("nan-dit"), (name, values) -> {
            if (name.equals(poisoned)) {
                values[0] = Float.NaN;
            }
        });
        Path out = dir.resolve("report");
        CliRun r = profile(model, out);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("warning: some distances were NaN or infinite"), r::toString);

        String text = Files.readString(out.resolve("profile.json"));
        assertFalse(text.contains("NaN") || text.contains("Infinity"), "profile.json holds only JSON numbers");
        JsonNode root = JSON.readTree(text);
        long keyNonFinite = 0;
        for (JsonNode s : root.path("series")) {
            for (JsonNode row : s.path("mean")) {
                row.forEach(v -> assertTrue(v.isNumber() && Double.isFinite(v.asDouble()), s.path("kind") + ": " + v));
            }
            if (s.path("kind").asText().equals("K")) {
                for (JsonNode n : s.path("nonfinite").get(1)) {
                    keyNonFinite += n.asLong();
                }
            }
        }
        assertTrue(keyNonFinite > 0, "K at block 1 (NaN weight) counts non-finite distances");
        RedundancyProfile back = RedundancyProfile.readJson(out.resolve("profile.json"));
        assertTrue(back.hasNonFinite());
        assertTrue(Files.exists(out.resolve("report.html")));
    }

    private static CliRun profile(Path model, Path out) {
        return CliRun.of("profile", "--model", model.toString(), "--steps", Integer.toString(STEPS),
                "--class-labels", "1", "--guidance", "1", "--out", out.toString());
    }

    private static void assertMatrixShape(JsonNode series, String matrix) {
        JsonNode m = series.path(matrix);
        String what = series.path("kind").asText() + "/" + series.path("metric").asText() + " " + matrix;
        assertEquals(FixtureDit.LAYERS, m.size(), what + ": one row per layer");
        m.forEach(row -> assertEquals(STEPS - 1, row.size(), what + ": one column per transition"));
    }

    private static List<String> pngs(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png")).sorted().toList();
        }
    }
}
