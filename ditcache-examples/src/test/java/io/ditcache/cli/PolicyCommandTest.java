package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.ReuseErrorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCommandTest {
    @TempDir
    Path dir;
    Path profileFile;
    Path out;
    RedundancyProfile profile;

    /** 4 layers x 12 steps of random block-residual distances. */
    @BeforeEach
    void profile() throws IOException {
        profile = new RedundancyProfile(Map.of("name", "synthetic"), Map.of("name", "ddim"), 4, 12);
        Random r = new Random(1);
        for (int l = 0; l < 4; l++) {
            for (int s = 0; s < 11; s++) {
                profile.add(ReuseErrorModel.SERIES, l, s, 0.01 + r.nextDouble() * 0.1);
            }
        }
        profile.countRun();
        profileFile = dir.resolve("profile.json");
        profile.writeJson(profileFile);
        out = dir.resolve("masks/mask.json");
    }

    @Test
    void plansForABudget() throws IOException {
        CliRun run = CliRun.of("policy", "--profile", profileFile.toString(), "--budget", "0.5", "--out",
                out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        ComputeMask mask = ComputeMask.read(out);
        assertEquals(MaskPlanner.forBudget(profile, 12, 0.5), mask);
        assertTrue(run.out().contains(mask.grid()), run.toString());
        assertTrue(run.out().contains("computed fraction 0.5000 (24 of 48 block evaluations; budget 0.5)"),
                run.toString());
        assertTrue(run.out().contains(String.format(java.util.Locale.ROOT, "estimated error %.6g",
                mask.estimatedError())), run.toString());
        assertTrue(run.out().contains("wrote " + out.toAbsolutePath()), run.toString());
        assertEquals("", run.err());
    }

    @Test
    void plansPerCellDecisionsWhenAllAreAllowed() throws IOException {
        // attention and feed-forward outputs change half as much as the residual: part reuse is the cheaper skip
        Random r = new Random(2);
        for (int l = 0; l < 4; l++) {
            for (int s = 0; s < 11; s++) {
                double d = profile.series(ReuseErrorModel.SERIES).orElseThrow().mean(l, s);
                profile.add(io.ditcache.policy.CellErrorModel.ATTENTION, l, s, d * (0.4 + 0.2 * r.nextDouble()));
                profile.add(io.ditcache.policy.CellErrorModel.FEED_FORWARD, l, s, d * (0.4 + 0.2 * r.nextDouble()));
            }
        }
        profile.writeJson(profileFile);
        CliRun run = CliRun.of("policy", "--profile", profileFile.toString(), "--budget", "0.5", "--decisions", "all",
                "--out", out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        ComputeMask mask = ComputeMask.read(out);
        assertTrue(mask.hasDecisions(), mask.grid());
        assertTrue(Files.readString(out).contains(ComputeMask.DECISIONS_FORMAT));
        assertTrue(mask.computedFraction() <= 0.5);
        assertEquals(io.ditcache.policy.DecisionPlanner.forBudget(RedundancyProfile.readJson(profileFile),
                io.ditcache.BlockLayout.plain(4), 12, 0.5), mask);
        assertTrue(mask.estimatedError() < MaskPlanner.forBudget(profile, 12, 0.5).estimatedError(),
                "cheaper skips, less error at the same budget");
        assertTrue(run.out().contains(mask.grid()), run.toString());
        out = dir.resolve("masks/other.json");
        assertBadOption("--decisions some: expected block or all", "--profile", profileFile.toString(), "--budget",
                "0.5", "--decisions", "some", "--out", out.toString());
    }

    @Test
    void plansForATargetAtAnotherStepCount() throws IOException {
        CliRun run = CliRun.of("policy", "--profile", profileFile.toString(), "--target-error", "0.3", "--steps",
                "6", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        ComputeMask mask = ComputeMask.read(out);
        assertEquals(6, mask.steps());
        assertEquals(MaskPlanner.forTarget(profile, 6, 0.3), mask);
        assertTrue(mask.estimatedError() <= 0.3);
        assertTrue(run.out().contains("target error 0.3"), run.toString());
    }

    /** A 2-layer Latte: blocks 0, 2 spatial and 1, 3 temporal, as the 4-layer profile. */
    Path latteConfig() throws IOException {
        Path config = dir.resolve("latte.json");
        Files.writeString(config, "{\"_class_name\": \"LatteTransformer3DModel\", \"activation_fn\": "
                + "\"gelu-approximate\", \"attention_bias\": true, \"attention_head_dim\": 4, "
                + "\"caption_channels\": 8, \"cross_attention_dim\": 8, \"in_channels\": 4, "
                + "\"norm_elementwise_affine\": false, \"norm_eps\": 1e-06, \"norm_type\": \"ada_norm_single\", "
                + "\"num_attention_heads\": 2, \"num_layers\": 2, \"out_channels\": 8, \"patch_size\": 2, "
                + "\"sample_size\": 8, \"video_length\": 16}");
        return config;
    }

    @Test
    void plansSpatialAndTemporalBlocksWithTheirOwnBudgets() throws IOException {
        Path config = latteConfig();
        CliRun run = CliRun.of("policy", "--profile", profileFile.toString(), "--group-budget", "spatial=0.5",
                "--group-budget", "temporal=0.75", "--config", config.toString(), "--out", out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        ComputeMask mask = ComputeMask.read(out);
        io.ditcache.BlockLayout layout = io.ditcache.model.ModelLoader.describe(
                io.ditcache.io.DiffusersConfig.read(config)).layout();
        assertEquals(MaskPlanner.forGroupBudgets(profile, layout, 12, Map.of(io.ditcache.BlockGroup.SPATIAL, 0.5,
                io.ditcache.BlockGroup.TEMPORAL, 0.75)).grid(), mask.grid());
        int spatial = 0;
        int temporal = 0;
        for (int t = 0; t < 12; t++) {
            spatial += (mask.computes(t, 0) ? 1 : 0) + (mask.computes(t, 2) ? 1 : 0);
            temporal += (mask.computes(t, 1) ? 1 : 0) + (mask.computes(t, 3) ? 1 : 0);
        }
        assertEquals(12, spatial, "half of 24 spatial evaluations");
        assertEquals(18, temporal, "three quarters of 24 temporal evaluations");
        assertTrue(run.out().contains("group budgets"), run.toString());

        Files.delete(out);
        assertBadOption("needs --config", "--profile", profileFile.toString(), "--group-budget", "spatial=0.5",
                "--out", out.toString());
        assertBadOption("no such block group", "--profile", profileFile.toString(), "--group-budget",
                "single=0.5", "--config", config.toString(), "--out", out.toString());
        assertBadOption("only --group-budget", "--profile", profileFile.toString(), "--budget", "0.5",
                "--config", config.toString(), "--out", out.toString());
        assertBadOption("spatial=1.5", "--profile", profileFile.toString(), "--group-budget", "spatial=1.5",
                "--config", config.toString(), "--out", out.toString());
    }

    @Test
    void missingOrBothCriteria() {
        assertBadOption("--budget", "--profile", profileFile.toString(), "--out", out.toString());
        assertBadOption("mutually exclusive", "--profile", profileFile.toString(), "--budget", "0.5",
                "--target-error", "1", "--out", out.toString());
    }

    @Test
    void badBudget() {
        for (String b : new String[] {"0", "1.5", "-0.2", "NaN"}) {
            assertBadOption("--budget " + b, "--profile", profileFile.toString(), "--budget", b, "--out",
                    out.toString());
        }
        // 12 steps: step 0 alone computes 1/12
        assertBadOption("--budget 0.05: below 0.0833", "--profile", profileFile.toString(), "--budget", "0.05",
                "--out", out.toString());
        assertBadOption("'half'", "--profile", profileFile.toString(), "--budget", "half", "--out",
                out.toString());
    }

    @Test
    void badTargetAndSteps() {
        assertBadOption("--target-error -1.0", "--profile", profileFile.toString(), "--target-error", "-1",
                "--out", out.toString());
        assertBadOption("--target-error Infinity", "--profile", profileFile.toString(), "--target-error",
                "Infinity", "--out", out.toString());
        assertBadOption("--steps 1", "--profile", profileFile.toString(), "--budget", "0.5", "--steps", "1",
                "--out", out.toString());
        assertBadOption("--out", "--profile", profileFile.toString(), "--budget", "0.5");
    }

    @Test
    void badProfiles() throws IOException {
        assertFails(1, "nope.json: no such file", "--profile", dir.resolve("nope.json").toString(), "--budget",
                "0.5", "--out", out.toString());
        Path text = dir.resolve("text.json");
        Files.writeString(text, "not json");
        assertFails(1, "text.json", "--profile", text.toString(), "--budget", "0.5", "--out", out.toString());
        RedundancyProfile other = new RedundancyProfile(Map.of("name", "synthetic"), Map.of(), 2, 5);
        other.add(SeriesKey.of(SiteKind.K, DistanceMetric.L1_REL), 0, 0, 0.1);
        Path noResiduals = dir.resolve("k-only.json");
        other.writeJson(noResiduals);
        assertFails(1, "policy: --profile " + noResiduals + ": ", "--profile", noResiduals.toString(), "--budget",
                "0.5", "--out", out.toString());
        assertFails(1, "BLOCK_RESIDUAL/IMAGE/COND/L1_REL", "--profile", noResiduals.toString(), "--budget", "0.5",
                "--out", out.toString());
    }

    private void assertBadOption(String fragment, String... args) {
        assertFails(2, fragment, args);
    }

    /** Fails with {@code code}, one line on stderr naming {@code fragment}, and no mask written. */
    private void assertFails(int code, String fragment, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "policy";
        System.arraycopy(args, 0, all, 1, args.length);
        CliRun run = CliRun.of(all);
        assertEquals(code, run.exitCode(), run.toString());
        assertEquals(1, run.errLines().size(), run.toString());
        assertTrue(run.err().contains(fragment), "missing '" + fragment + "' in " + run);
        assertFalse(Files.exists(out), run.toString());
    }
}
