package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real launcher, {@code java DitCacheCommand study ...} without the OpenMP settings, so that it relaunches
 * itself as a child JVM, killed while the child writes a study: nothing of it keeps running or writing, a second
 * study on the same folder is refused meanwhile, and the killed study resumes and finishes.
 */
class LauncherSignalsTest {
    /** How long the processes of a killed launcher may take to end (the child polls every 200 ms). */
    static final long END_WITHIN_MS = 5_000;

    @TempDir
    Path dir;

    private final List<ProcessHandle> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        // a failing run must not leave an orphan computing on the test machine
        started.forEach(ProcessHandle::destroyForcibly);
    }

    private List<String> studyArgs(Path model, Path out, int conditions, int steps) {
        return List.of("study", "--model", model.toString(), "--conditions", Integer.toString(conditions), "--steps",
                Integer.toString(steps), "--schedulers", "ddim", "--guidance", "1.5", "--out", out.toString());
    }

    /** Starts the launcher as a user would, waits until its child has written a run, and returns the child. */
    private ProcessHandle launchAndAwaitARun(List<String> args, Path out, Process[] launcher) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), DitCacheCommand.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("launcher.out").toFile())
                .redirectError(dir.resolve("launcher.err").toFile());
        pb.environment().remove("OMP_WAIT_POLICY"); // surefire sets it; users typically do not
        Process p = pb.start();
        launcher[0] = p;
        started.add(p.toHandle());
        long deadline = System.currentTimeMillis() + 120_000;
        while (runFiles(out).isEmpty()) {
            p.descendants().forEach(d -> {
                if (!started.contains(d)) {
                    started.add(d);
                }
            });
            if (!p.isAlive()) {
                fail("the launcher ended (" + p.exitValue() + ") before writing a run: " + log());
            }
            if (System.currentTimeMillis() > deadline) {
                fail("no run written within 120 s: " + log());
            }
            Thread.sleep(20);
        }
        List<ProcessHandle> children = p.children().toList();
        assertEquals(1, children.size(), "the launcher relaunched itself once: " + log());
        p.descendants().filter(d -> !started.contains(d)).forEach(started::add);
        return children.get(0);
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("launcher.err"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static List<Path> runFiles(Path out) throws IOException {
        Path runs = out.resolve("runs");
        if (!Files.isDirectory(runs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(runs)) {
            return files.filter(f -> f.getFileName().toString().matches("c\\d{6}\\.safetensors")).toList();
        }
    }

    /** Every file of the folder with its size and modification time. */
    static Map<Path, String> snapshot(Path out) throws IOException {
        Map<Path, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(out)) {
            for (Path f : (Iterable<Path>) walk::iterator) {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                if (a.isRegularFile()) {
                    files.put(out.relativize(f), a.size() + "@" + a.lastModifiedTime().toMillis());
                }
            }
        }
        return files;
    }

    /** Asserts that every process the launcher started ends soon, and that the folder then stays as it is. */
    private Map<Path, String> assertNothingKeepsRunning(Path out) throws Exception {
        long deadline = System.currentTimeMillis() + END_WITHIN_MS;
        while (started.stream().anyMatch(ProcessHandle::isAlive) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        List<ProcessHandle> alive = started.stream().filter(ProcessHandle::isAlive).toList();
        assertEquals(List.of(), alive.stream().map(h -> h.pid() + " " + h.info().command().orElse("?")).toList(),
                "processes left running " + END_WITHIN_MS + " ms after the kill");
        Map<Path, String> before = snapshot(out);
        Thread.sleep(1_000);
        assertEquals(before, snapshot(out), "the study folder changed after its processes ended");
        return before;
    }

    @Test
    void sigtermStopsTheChildAndASecondStudyOnTheFolderIsRefusedMeanwhile() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        Path out = dir.resolve("study");
        List<String> args = studyArgs(model, out, 2000, 50); // minutes of work: only a kill ends it in time
        Process[] launcher = new Process[1];
        ProcessHandle child = launchAndAwaitARun(args, out, launcher);

        // without the claim this would run the whole study beside the child: bound it
        CliRun second = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.of(args.toArray(String[]::new)),
                "a second study on the folder is refused at once");
        assertEquals(1, second.exitCode(), second::toString);
        assertEquals(List.of("study: " + out + " is in use by another study or merge (pid " + child.pid()
                + ", lock .study.lock); wait for it to end or choose another --out"), second.errLines());

        launcher[0].destroy(); // SIGTERM, as kill or a service manager sends
        assertTrue(launcher[0].waitFor(END_WITHIN_MS, TimeUnit.MILLISECONDS), "the launcher ended");
        assertEquals(143, launcher[0].exitValue(), "ended by SIGTERM: 128 + 15");
        Map<Path, String> left = assertNothingKeepsRunning(out);
        assertFalse(left.containsKey(Path.of("study.json")), "the study did not run to its end");
    }

    @Test
    void sigkillOfTheLauncherEndsTheChildAndTheStudyThenResumesToItsEnd() throws Exception {
        Path model = FixtureDit.checkpoint(dir.resolve("dit"));
        Path out = dir.resolve("study");
        // seconds of work: an orphan would finish it (or still be running) by the time the check looks
        List<String> args = studyArgs(model, out, 24, 40);
        Process[] launcher = new Process[1];
        launchAndAwaitARun(args, out, launcher);

        launcher[0].destroyForcibly(); // SIGKILL: no hook runs in the launcher; the child must notice
        assertTrue(launcher[0].waitFor(END_WITHIN_MS, TimeUnit.MILLISECONDS), "the launcher ended");
        Map<Path, String> left = assertNothingKeepsRunning(out);
        assertFalse(left.containsKey(Path.of("study.json")), "the child stopped before the end of the study");
        List<Path> kept = runFiles(out);
        assertTrue(kept.size() < 24, kept.size() + " runs");

        CliRun resumed = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, resumed.exitCode(), resumed::toString);
        assertEquals(24, runFiles(out).size());
        Map<Path, String> after = snapshot(out);
        for (Path run : kept) {
            Path rel = out.relativize(run);
            assertEquals(left.get(rel), after.get(rel), rel + ": a finished run is kept, not computed again");
        }
        assertTrue(after.keySet().stream().noneMatch(f -> f.getFileName().toString().endsWith(".tmp")),
                "no unfinished write left: " + after.keySet());
        assertTrue(after.containsKey(Path.of("study.json")) && after.containsKey(Path.of("report.html")));
    }
}
