package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --kinds} and {@code --forecast-error} on profile and study, and {@code overhead}, on the fixture DiT. */
class ProbeCostCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void profileOfTheKindsAskedForWithTheForecastError() throws Exception {
        Path out = dir.resolve("report");
        CliRun r = CliRun.of("profile", "--model", FixtureDit.checkpoint(dir.resolve("dit")).toString(), "--steps",
                "4", "--class-labels", "1,2", "--guidance", "1.5", "--kinds", "k,V,attn_out", "--forecast-error",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        RedundancyProfile p = RedundancyProfile.readJson(out.resolve("profile.json"));
        Set<SiteKind> kinds = EnumSet.noneOf(SiteKind.class);
        Set<DistanceMetric> metrics = EnumSet.noneOf(DistanceMetric.class);
        for (ProfileSeries s : p.series()) {
            kinds.add(s.key().kind());
            metrics.add(s.key().metric());
        }
        assertEquals(EnumSet.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT), kinds);
        assertEquals(EnumSet.allOf(DistanceMetric.class), metrics);
        ProfileSeries forecast = p.series().stream().filter(s -> s.key().metric() == DistanceMetric.FORECAST_L1_REL)
                .findFirst().orElseThrow();
        assertEquals(0, forecast.count(0, 0), "no forecast for the first column");
        assertEquals(2, forecast.count(0, 1), "two samples");
        assertTrue(forecast.mean(0, 1) > 0);
    }

    @Test
    void anUnknownKindIsAUsageErrorNamingIt() {
        CliRun r = CliRun.of("profile", "--kinds", "k,q", "--out", dir.resolve("x").toString());
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("\"q\""), r::toString);
        assertTrue(r.err().contains("a (ATTN_OUT)"), r::toString);
    }

    @Test
    void studyProfilesTheKindsAskedForAndRecordsThemInItsPlan() throws Exception {
        Path out = dir.resolve("study");
        String model = FixtureDit.checkpoint(dir.resolve("dit")).toString();
        CliRun r = CliRun.of("study", "--model", model, "--steps",
                "3", "--conditions", "2", "--kinds", "k,v,a", "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode plan = JSON.readTree(out.resolve("plan.json").toFile());
        assertEquals(List.of("K", "V", "ATTN_OUT"), List.of(plan.get("kinds").get(0).asText(),
                plan.get("kinds").get(1).asText(), plan.get("kinds").get(2).asText()));
        // resuming with other kinds is refused: the runs on disk measured these
        CliRun again = CliRun.of("study", "--model", model, "--steps", "3", "--conditions", "2", "--kinds", "k",
                "--out", out.toString());
        assertFalse(again.exitCode() == 0, again::toString);
        assertTrue(again.err().contains("kinds [K, V, ATTN_OUT] vs [K]"), again::toString);
    }

    /** No CPU time measured without the profiler (runs under the clock's 10 ms tick): no CPU overhead, not infinity. */
    @Test
    void cpuOverheadIsUnknownWhereTheArmWithoutTheProfilerMeasuredNone() {
        double[] wall = {2, 2};
        assertTrue(Double.isNaN(new ProbeOverhead.Figures(wall, wall, new double[] {3.3, 0}, new double[] {0, 0},
                new double[0], ProbeOverhead.ReferenceArm.NONE, ProbeOverhead.ReferenceArm.NONE, true).cpuOverhead()));
        assertEquals(1.0, new ProbeOverhead.Figures(wall, wall, new double[] {4, 4}, new double[] {2, 2},
                new double[0], ProbeOverhead.ReferenceArm.NONE, ProbeOverhead.ReferenceArm.NONE, true).cpuOverhead(), 1e-12);
        assertTrue(Double.isNaN(new ProbeOverhead.Figures(wall, wall, new double[0], new double[0], new double[0],
                ProbeOverhead.ReferenceArm.NONE, ProbeOverhead.ReferenceArm.NONE, true).cpuOverhead()), "CPU time unknown");
    }

    /** Each reference arm against the arm without a probe: medians, and the median of per-run ratios. */
    @Test
    void referenceArmsAreAgainstTheArmWithoutAProbe() {
        double[] without = {10, 20, 10};
        ProbeOverhead.ReferenceArm floor = new ProbeOverhead.ReferenceArm(new double[] {11, 30, 10.5},
                new double[] {1, 2, 3});
        ProbeOverhead.ReferenceArm current = new ProbeOverhead.ReferenceArm(new double[] {10.2, 20.2, 10.4},
                new double[0]);
        ProbeOverhead.Figures f = new ProbeOverhead.Figures(new double[] {12, 22, 11}, without, new double[0],
                new double[0], new double[0], floor, current, true);
        assertEquals(11.0 / 10 - 1, f.overheadOf(floor), 1e-12);
        assertEquals(0.1, f.pairOverheadOf(floor), 1e-12, "ratios 0.1, 0.5, 0.05");
        assertEquals(10.4 / 10 - 1, f.overheadOf(current), 1e-12);
        assertEquals(0.02, f.pairOverheadOf(current), 1e-12, "ratios 0.02, 0.01, 0.04");
        assertEquals(0.1, f.pairOverhead(), 1e-12, "ratios 0.2, 0.1, 0.1");
        ProbeOverhead.ReferenceArm none = ProbeOverhead.ReferenceArm.NONE;
        assertTrue(Double.isNaN(f.overheadOf(none)) && Double.isNaN(f.pairOverheadOf(none)), "not measured");
    }

    @Test
    void overheadWritesBothArmsSettingsAndAFiniteOverhead() throws Exception {
        Path out = dir.resolve("overhead");
        CliRun r = CliRun.of("overhead", "--model", FixtureDit.checkpoint(dir.resolve("dit")).toString(), "--steps",
                "3", "--samples", "2", "--guidance", "1.25", "--kinds", "k,v,a", "--repeats", "2", "--warmups",
                "1", "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode root = JSON.readTree(out.resolve(OverheadCommand.FILE).toFile());
        for (String key : List.of("with_probe_ms_per_step", "without_probe_ms_per_step", "overhead",
                "pair_overhead_median", "with_probe_cpu_ms_per_step", "without_probe_cpu_ms_per_step")) {
            assertTrue(root.get(key).isNumber() && Double.isFinite(root.get(key).asDouble()), key + ": " + root);
        }
        // runs this short may measure no process CPU time at all (10 ms ticks): then there is no CPU overhead
        if (root.get("without_probe_cpu_ms_per_step").asDouble() > 0) {
            assertTrue(root.get("cpu_overhead").isNumber() && Double.isFinite(root.get("cpu_overhead").asDouble()),
                    "cpu_overhead: " + root);
        } else {
            assertTrue(root.get("cpu_overhead").isNull(), "cpu_overhead: " + root);
            assertTrue(r.out().contains("n/a (CPU time)"), r::toString);
        }
        assertTrue(root.get("with_probe_ms_per_step").asDouble() > 0);
        assertEquals(root.get("with_probe_ms_per_step").asDouble() / root.get("without_probe_ms_per_step").asDouble()
                - 1, root.get("overhead").asDouble(), 1e-9, "overhead is a fraction of the medians");
        for (String arm : List.of("with_probe", "without_probe")) {
            JsonNode a = root.get(arm);
            assertEquals(2, a.get("runs_ms_per_step").size(), arm);
            assertEquals(2, a.get("runs_cpu_ms_per_step").size(), arm);
            assertTrue(a.get("min_ms_per_step").asDouble() <= a.get("median_ms_per_step").asDouble());
            assertTrue(a.get("median_ms_per_step").asDouble() <= a.get("max_ms_per_step").asDouble());
        }
        assertEquals(root.get("with_probe").get("median_ms_per_step").asDouble(),
                root.get("with_probe_ms_per_step").asDouble(), 0.0);
        assertTrue(root.get("same_samples").asBoolean(), "the profiler only observes");
        JsonNode s = root.get("settings");
        assertEquals(3, s.get("steps").asInt());
        assertEquals(2, s.get("samples").asInt());
        assertEquals(1.25, s.get("guidance").asDouble());
        assertEquals("k,v,a", s.get("kinds").asText());
        assertEquals(2, s.get("repeats").asInt());
        assertEquals(1, s.get("warmup_pairs").asInt());
        assertEquals(System.getProperty(io.ditcache.profile.CpuDistanceBackend.THREAD_PROPERTY, "caller"),
                root.get("machine").get("distance_thread").asText());
        assertTrue(root.get("machine").has("load_average_before"), root::toString);
        assertTrue(r.out().contains("with profiler"), r::toString);
        assertTrue(r.out().contains("overhead"), r::toString);
        assertFalse(root.has("read_floor") || root.has("read_floor_overhead") || root.has("read_current")
                || root.has("read_current_overhead"), "no reference arms unless asked");
        assertFalse(s.get("read_floor").asBoolean());
        assertFalse(r.out().contains("read floor") || r.out().contains("read current"), r::toString);
        CliRun bad = CliRun.of("overhead", "--warmups", "-1", "--out", dir.resolve("bad").toString());
        assertEquals(2, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("--warmups -1: expected 0..1000 (untimed pairs)"), bad::toString);
    }

    @Test
    void overheadWithTheFloorTimesTwoReferenceArmsThatSampleTheSame() throws Exception {
        Path out = dir.resolve("floor");
        CliRun r = CliRun.of("overhead", "--model", FixtureDit.checkpoint(dir.resolve("dit-floor")).toString(),
                "--steps", "3", "--samples", "2", "--kinds", "k,out", "--repeats", "2", "--warmups", "1", "--floor",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode root = JSON.readTree(out.resolve(OverheadCommand.FILE).toFile());
        for (String name : List.of("read_floor", "read_current")) {
            JsonNode arm = root.get(name);
            assertEquals(2, arm.get("runs_ms_per_step").size(), root::toString);
            assertEquals(arm.get("median_ms_per_step").asDouble(), root.get(name + "_ms_per_step").asDouble(), 0.0);
            assertEquals(root.get(name + "_ms_per_step").asDouble() / root.get("without_probe_ms_per_step")
                    .asDouble() - 1, root.get(name + "_overhead").asDouble(), 1e-9);
            assertTrue(root.get(name + "_pair_overhead_median").isNumber(), root::toString);
            assertTrue(root.get("settings").get(name).asBoolean());
        }
        assertTrue(root.get("same_samples").asBoolean(), "no probe changes the samples");
        assertTrue(r.out().contains("2 quadruples after 1 warm-up"), r::toString);
        for (String row : List.of("read floor", "read current", "cpu, in floor", "cpu, in current")) {
            assertTrue(r.out().contains(row), row + ": " + r);
        }
        assertTrue(root.get("inside_floor_cpu_ms_per_step").asDouble() >= 0, root::toString);
        assertTrue(root.get("inside_current_cpu_ms_per_step").asDouble() >= 0, root::toString);
        assertTrue(r.err().contains("run 12 of 12") && r.err().contains("run 4 of 12 (warm-up)")
                && !r.err().contains("run 5 of 12 (warm-up)"), r::toString);
    }
}
