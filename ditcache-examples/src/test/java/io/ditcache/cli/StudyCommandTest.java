package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ditcache study} and {@code merge} on the fixture DiT: files, shard + merge, errors. */
class StudyCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private CliRun study(Path model, String out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("study", "--model", model.toString(), "--conditions",
                "3", "--steps", "3,4", "--schedulers", "ddim,euler", "--guidance", "1.5", "--out",
                dir.resolve(out).toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void writesTablesProfilesAndTheReportAndMergesShards() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        java.io.ByteArrayOutputStream progress0 = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr0 = System.err;
        CliRun all;
        System.setErr(new java.io.PrintStream(progress0, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            all = study(model, "all");
        } finally {
            System.setErr(stderr0);
        }
        assertEquals(0, all.exitCode(), all::toString);
        // without a terminal: one whole line per finished run, counting up to all 12 (3 conditions x 2 x 2)
        List<String> runLines = progress0.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("study 1/1: ")).toList();
        assertEquals(12, runLines.size(), runLines::toString);
        for (int i = 0; i < runLines.size(); i++) {
            assertTrue(runLines.get(i).startsWith("study 1/1: " + (i + 1) + "/12 runs done (c"), runLines.get(i));
        }
        assertTrue(runLines.get(0).matches(".*\\(c0 ddim 3 steps\\), \\d+:\\d\\d:\\d\\d, about .* left"),
                runLines.get(0));
        assertTrue(all.out().contains("Prompt stability over 3 conditions"), all::toString);
        assertTrue(all.out().contains("Step-count agreement"), all::toString);
        Path out = dir.resolve("all");
        for (String f : List.of("study.json", "plan.json", "prompt_cv.csv", "step_stability.csv",
                "scheduler_stability.csv", "model_comparison.csv", "report.html",
                "profiles/dit/ddim-4/profile.json", "profiles/dit/euler-3/profile.csv",
                "runs/dit/euler-4/c000002.safetensors", "figures/dit/normalised-attn_out.png",
                "figures/dit/curves_IMAGE_COND.png", "figures/dit/heatmap_K_IMAGE_COND_L1_MEAN.png")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        JsonNode root = JSON.readTree(out.resolve("study.json").toFile());
        assertEquals("ditcache-study/1", root.path("format").asText());
        for (String table : List.of("prompt_cv", "step_stability", "scheduler_stability")) {
            assertTrue(root.path(table).size() > 0, table);
        }
        assertEquals(0, root.path("model_comparison").size(), "one model: no cross-model rows");
        String page = Files.readString(out.resolve("report.html"));
        assertTrue(page.contains("Prompt stability: mean per-cell CV") && page.contains("Scheduler stability")
                && page.contains("<img src=\"figures/dit/normalised-attn_out.png\""), "page sections");
        assertTrue(Files.readAllLines(out.resolve("step_stability.csv")).get(0).startsWith(
                "model,scheduler,steps_a,steps_b,kind,stream,branch,metric,layer,pearson,spearman"));

        for (String kind : List.of("k", "v", "attn_out")) {
            assertTrue(Files.isRegularFile(out.resolve("figures/dit/normalised-" + kind + ".png")),
                    "normalised curves of " + kind);
        }

        CliRun s1 = study(model, "s1", "--shard", "1/2");
        assertEquals(0, s1.exitCode(), s1::toString);
        assertTrue(s1.out().contains("Prompt stability over 2 of 3 conditions (shard 1/2)"), s1::toString);
        String shardPage = Files.readString(dir.resolve("s1/report.html"));
        assertTrue(shardPage.contains("<th>conditions</th><td>2 of 3 conditions (shard 1/2)"), "settings count");
        assertTrue(shardPage.contains("<th>shard</th><td>1/2"), "the shard is named");
        assertTrue(shardPage.contains("This is shard 1/2 of the study: it folds 2 of the 3 conditions."),
                "the reading says so");
        assertFalse(shardPage.contains("over 3 conditions") || shardPage.contains("across 3 conditions"),
                "no count of conditions it did not fold");
        assertEquals(0, study(model, "s2", "--shard", "2/2").exitCode());
        CliRun merged = CliRun.of("merge", "--out", dir.resolve("m").toString(), dir.resolve("s1").toString(),
                dir.resolve("s2").toString());
        assertEquals(0, merged.exitCode(), merged::toString);
        ObjectNode a = (ObjectNode) JSON.readTree(out.resolve("study.json").toFile());
        ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("m/study.json").toFile());
        assertEquals(a, m, "merged shards equal the unsharded study");

        Path run = out.resolve("runs/dit/euler-4/c000002.safetensors");
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(run);
        Files.setLastModifiedTime(run, java.nio.file.attribute.FileTime.fromMillis(before.toMillis() - 60_000));
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        CliRun again;
        System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            again = study(model, "all");
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, again.exitCode(), again::toString);
        assertTrue(progress.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .anyMatch(l -> l.equals("study 1/1: all 12 runs already done")), progress::toString);
        assertEquals(before.toMillis() - 60_000, Files.getLastModifiedTime(run).toMillis(),
                "a finished study resumes with nothing to run");
        assertEquals(a, JSON.readTree(out.resolve("study.json").toFile()));
    }

    @Test
    void badOptionsAndFoldersFailInOneLine() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        CliRun sched = study(model, "x", "--schedulers", "ddim,heun");
        assertEquals(2, sched.exitCode(), sched::toString);
        assertTrue(sched.err().startsWith("study: --schedulers heun: unknown"), sched::toString);
        CliRun flow = study(model, "x", "--schedulers", "flowmatch");
        assertEquals(2, flow.exitCode(), flow::toString);
        assertTrue(flow.err().contains("does not fit model dit"), flow::toString);
        CliRun shard = study(model, "x", "--shard", "3/2");
        assertEquals(2, shard.exitCode(), shard::toString);
        assertTrue(shard.err().startsWith("study: --shard 3/2: expected i/n"), shard::toString);
        CliRun steps = study(model, "x", "--steps", "2,10");
        assertEquals(2, steps.exitCode(), steps::toString);
        assertTrue(steps.err().startsWith("study: --steps 2: expected 3..10000"), steps::toString);
        CliRun conditions = CliRun.of("study", "--model", model.toString(), "--conditions", "0", "--out",
                dir.resolve("x").toString());
        assertEquals(2, conditions.exitCode(), conditions::toString);
        assertTrue(conditions.err().startsWith("study: --conditions 0: expected 1..100000"), conditions::toString);
        Files.writeString(dir.resolve("afile"), "x");
        CliRun outIsFile = study(model, "afile");
        assertEquals(2, outIsFile.exitCode(), outIsFile::toString);
        assertTrue(outIsFile.err().contains("is a file, expected a directory"), outIsFile::toString);

        Files.createDirectories(dir.resolve("notastudy"));
        CliRun merge = CliRun.of("merge", "--out", dir.resolve("m").toString(), dir.resolve("notastudy").toString());
        assertEquals(1, merge.exitCode(), merge::toString);
        assertEquals(1, merge.errLines().size(), merge::toString);
        assertTrue(merge.err().startsWith("merge: " + dir.resolve("notastudy") + ": no plan.json"), merge::toString);
    }
}
