package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ditcache bench} on the fixture DiT (no digit judge): the table's files and columns, and bad options. */
class BenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesTheShootoutTablePlotAndPage() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        Path out = dir.resolve("b");
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--steps", "5", "--samples", "2", "--repeats", "1",
                "--policies", "fora,fbcache,profile-guided+taylor1", "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        List<String> csv = Files.readAllLines(out.resolve("shootout.csv"));
        assertTrue(csv.get(0).startsWith("policy,params,speedup,skipped_fraction,psnr,ssim,max_abs_err,class_accuracy,"
                + "fd,speedup_min,speedup_median,speedup_max,timed_pairs,speedup_ceiling,note,psnr_median,psnr_p10,"
                + "class_changed,"), csv.get(0));
        for (String line : csv.subList(1, csv.size())) {
            // every row: the spread of its pairs, and a speedup its skipped share explains or a flag
            String[] c = line.split(",", -1);
            double speedup = Double.parseDouble(c[2]);
            double ceiling = c[13].equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(c[13]);
            assertEquals(1 / (1 - Double.parseDouble(c[3])), ceiling, 1e-9, line);
            assertTrue(Double.parseDouble(c[9]) <= Double.parseDouble(c[10])
                    && Double.parseDouble(c[10]) <= Double.parseDouble(c[11]), "min <= median <= max: " + line);
            int pairs = Integer.parseInt(c[12]);
            if (c[14].isEmpty()) {
                assertTrue(speedup <= ceiling * 1.1 + 1e-9, "an unflagged row is possible: " + line);
                assertTrue(pairs == 1 || pairs == 4 || pairs == 7, line);
            } else {
                assertEquals("noise: machine too busy", c[14], line);
                assertTrue(speedup > ceiling * 1.1, line);
                assertEquals(7, pairs, "--repeats 1, then two re-measurements of 3 pairs: " + line);
            }
        }
        assertEquals(1 + 2 + 4 + 5, csv.size(), "fora x2, fbcache x4, profile-guided+taylor1 x5");
        String[] fora = csv.get(1).split(",", -1);
        assertEquals("fora", fora[0]);
        assertEquals("interval=2", fora[1]);
        assertTrue(Double.parseDouble(fora[2]) > 0, "speedup");
        assertEquals(0.4, Double.parseDouble(fora[3]), 1e-12, "steps 1 and 3 of 5 reuse");
        assertTrue(Double.parseDouble(fora[4]) > 0, "psnr of reused samples is finite");
        assertEquals("", fora[7], "no digit judge for this model");
        assertTrue(Double.parseDouble(fora[15]) >= Double.parseDouble(fora[16]), "median >= 10th percentile PSNR");
        assertEquals("", fora[17], "no class changes without a judge");
        JsonNode json = new ObjectMapper().readTree(out.resolve("shootout.json").toFile());
        assertEquals("ditcache-shootout/1", json.path("format").asText());
        assertEquals(11, json.path("rows").size());
        assertTrue(json.path("rows").get(0).path("cache").path("skipped_fraction").isNumber());
        assertTrue(json.path("rows").get(0).path("speedup_spread").path("pairs").asInt() >= 1);
        assertTrue(json.path("machine").path("cores").asInt() >= 1, "the machine's load is recorded");
        assertTrue(r.out().contains("machine: "), r::toString);
        assertTrue(Files.size(out.resolve("pareto.png")) > 1000);
        assertTrue(Files.readString(out.resolve("report.html")).contains("<img src=\"pareto.png\""));
        assertTrue(r.out().contains("fora") && r.out().contains("speedup"), r::toString);
        // once "class accuracy , FD " with blanks
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("uncached: ") && l.endsWith(" s per run, class "
                + "accuracy and FD not measured (no digit classifier for this model's samples)")), r::toString);
    }

    /**
     * LeMiCa on request: its calibration's segment errors are written with their cost, and its plans at the budgets
     * 6 steps allow (segments of at most 5 steps: at least 2 computes) run as rows of whole skipped steps.
     */
    @Test
    void lemicaCalibratesThenPlansOverItsSegments() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        Path out = dir.resolve("l");
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--steps", "6", "--samples", "2", "--repeats", "1",
                "--policies", "lemica", "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode seg = new ObjectMapper().readTree(out.resolve(BenchCommand.segmentsFile("lemica")).toFile());
        assertEquals("ditcache-segment-errors/1", seg.path("format").asText());
        assertEquals(6, seg.path("steps").asInt());
        assertEquals("reuse", seg.path("approximation").asText());
        assertEquals(5, seg.path("max_segment").asInt());
        // from 0: lengths 2..5; from 1: 2..5; from 2: 2..4; from 3: 2..3; from 4: 2
        assertEquals(4 + 4 + 3 + 2 + 1, seg.path("segments").size());
        assertEquals(seg.path("segments").size() + 1, seg.path("runs").asInt(), "and one uncached run");
        assertTrue(seg.path("seconds").asDouble() > 0);
        for (JsonNode s : seg.path("segments")) {
            assertTrue(s.path("error").asDouble() > 0, s::toString);
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("calibration: lemica, 4 conditions, 15 runs of 6 "
                + "steps, ")), r::toString);
        List<String> csv = Files.readAllLines(out.resolve("shootout.csv"));
        // budgets 0.7, 0.5, 0.4, 0.33 compute 4, 3, 2, 1 steps of 6: the last is below the 2 that segments of 5 need
        assertEquals(List.of("budget=0.7", "budget=0.5", "budget=0.4"), csv.subList(1, csv.size()).stream()
                .map(l -> l.split(",", -1)[1]).toList());
        assertEquals(1 - 4 / 6.0, Double.parseDouble(csv.get(1).split(",", -1)[3]), 1e-12, "2 of 6 steps reused");
    }

    @Test
    void progressIsALinePerRunInLogs() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        CliRun.WithProgress w = CliRun.withProgress("bench", "bench", "--model", model.toString(), "--steps", "3",
                "--samples", "2", "--repeats", "1", "--policies", "fora", "--out", dir.resolve("p").toString());
        assertEquals(0, w.run().exitCode(), w.run()::toString);
        List<String> lines = w.progress();
        assertTrue(lines.size() >= 2, "one line per run: " + lines);
        int runs = lines.size();
        for (int i = 0; i < runs; i++) {
            // the total grows where a row is re-measured (a busy machine); the count goes up by one each line
            assertTrue(lines.get(i).startsWith("bench: " + (i + 1) + "/"), lines::toString);
        }
        assertTrue(lines.get(runs - 1).startsWith("bench: " + runs + "/" + runs + " runs done"), lines::toString);
    }

    @Test
    void badOptionsFailInOneLine() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        CliRun unknown = CliRun.of("bench", "--model", model.toString(), "--policies", "fora,nocache", "--out",
                dir.resolve("x").toString());
        assertEquals(2, unknown.exitCode(), unknown::toString);
        assertTrue(unknown.err().startsWith("bench: --policies nocache: unknown"), unknown::toString);
        CliRun steps = CliRun.of("bench", "--steps", "2", "--out", dir.resolve("x").toString());
        assertEquals(2, steps.exitCode(), steps::toString);
        assertEquals(1, steps.errLines().size(), steps::toString);
    }

    @Test
    void aCalibrationProfileThePoliciesCannotUseIsNamed() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        RedundancyProfile kOnly = new RedundancyProfile(Map.of("name", "synthetic"), Map.of(), FixtureDit.LAYERS, 3);
        kOnly.add(SeriesKey.of(SiteKind.K, DistanceMetric.L1_REL), 0, 0, 0.1);
        Path file = dir.resolve("k-only.json");
        kOnly.writeJson(file);
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--steps", "3", "--samples", "2", "--profile",
                file.toString(), "--policies", "profile-guided", "--out", dir.resolve("x").toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("bench: --profile " + file + ": profile-guided: ")
                && r.err().contains("BLOCK_RESIDUAL/IMAGE/COND/L1_REL"), r::toString);
    }
}
