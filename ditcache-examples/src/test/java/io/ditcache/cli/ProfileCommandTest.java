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

    @Test
    void thePageCountsAndNamesTheSamplesAndProgressIsALinePerStep() throws Exception {
        Path out = dir.resolve("four");
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        CliRun r;
        System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            r = CliRun.of("profile", "--model", FixtureDit.checkpoint(dir.resolve("dit")).toString(), "--steps",
                    Integer.toString(STEPS), "--class-labels", "1,2", "--seeds", "0,1", "--guidance", "1", "--out",
                    out.toString());
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("4 samples in 1 run"), r::toString);
        List<String> lines = progress.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("profile: ")).toList();
        assertEquals(STEPS, lines.size(), "one line per step: " + lines);
        assertTrue(lines.get(STEPS - 1).startsWith("profile: " + STEPS + "/" + STEPS + " steps done, "),
                lines::toString);
        JsonNode root = JSON.readTree(out.resolve("profile.json").toFile());
        assertEquals(4, root.path("samples").asInt(), "two classes x two seeds");
        assertEquals(1, root.path("runs").asInt(), "drawn side by side in one run");
        String page = Files.readString(out.resolve("report.html"));
        assertTrue(page.contains("<th>samples</th><td>4 (classes 1, 2 x seeds 0, 1)</td>"), "settings");
        assertTrue(page.contains("<li>4 samples (classes 1, 2 x seeds 0, 1) in 1 sampling run, scheduler ddim, "
                + STEPS + " steps"), "the reading");
        assertTrue(page.contains("Mean per-cell CV over the samples: "), "the CV over samples is shown");
        assertFalse(page.contains("1 run,") || page.contains("over 1 run"), "samples, not runs");
    }

    @Test
    void numbersAreShortenedToRanges() {
        assertEquals("0-9", ProfileCommand.ranges(java.util.stream.IntStream.range(0, 10).boxed().toList()));
        assertEquals("1, 2", ProfileCommand.ranges(List.of(1, 2)));
        assertEquals("3, 5-7, 0", ProfileCommand.ranges(List.of(3, 5, 6, 7, 0)));
        assertEquals("seed 0", ProfileCommand.seedWords(List.of(0L)));
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
