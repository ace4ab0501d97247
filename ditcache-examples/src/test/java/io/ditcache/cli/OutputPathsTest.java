package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --out} is checked before any work: a file where a directory is expected (or the reverse), a file in the
 * way of the directories to make, a device, or a directory that cannot be written fails at once with exit 2 and
 * one line, where it once failed after the whole run as "profile: /path".
 */
class OutputPathsTest {
    @TempDir
    Path dir;
    Path file;
    String model;

    @BeforeEach
    void paths() throws IOException {
        file = Files.writeString(dir.resolve("a-file"), "keep me");
        model = FixtureDit.checkpoint(dir.resolve("dit")).toString();
    }

    @Test
    void aFileWhereEachCommandWritesADirectory() throws IOException {
        String f = file.toString();
        String expect = "--out " + f + ": is a file, expected a directory";
        assertRefused("profile", expect, "profile", "--model", model, "--steps", "3", "--out", f);
        assertRefused("generate", expect, "generate", "--steps", "1", "--samples", "2", "--out", f);
        assertRefused("bench", expect, "bench", "--model", model, "--out", f);
        assertRefused("train", expect, "train", "--data", dir.toString(), "--out", f);
        assertRefused("merge", expect, "merge", "--out", f, dir.resolve("shard").toString());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void aDirectoryWhereACommandWritesAFile() throws IOException {
        String d = dir.toString();
        String expect = "--out " + d + ": is a directory, expected a file";
        assertRefused("run", expect, "run", "--model", model, "--inputs", dir.resolve("in.safetensors").toString(),
                "--out", d);
        assertRefused("policy", expect, "policy", "--profile", dir.resolve("p.json").toString(), "--budget", "0.5",
                "--out", d);
    }

    @Test
    void aFileInTheWayOfTheDirectoriesToMake() throws IOException {
        String under = file.resolve("report").toString();
        assertRefused("profile", "--out " + under + ": " + file + " is a file, so no directory can be made there",
                "profile", "--model", model, "--steps", "3", "--out", under);
        String mask = file.resolve("mask.json").toString();
        assertRefused("policy", "--out " + mask + ": " + file + " is a file", "policy", "--profile",
                dir.resolve("p.json").toString(), "--budget", "0.5", "--out", mask);
    }

    @Test
    void aDeviceIsNotReplacedByAFile() throws IOException {
        Path device = Path.of("/dev/null");
        assumeTrue(Files.exists(device) && !Files.isRegularFile(device), "a Unix /dev/null");
        assertRefused("run", "--out /dev/null: is not a regular file", "run", "--model", model, "--inputs",
                dir.resolve("in.safetensors").toString(), "--out", device.toString());
        assertTrue(!Files.isRegularFile(device), "/dev/null is still a device");
    }

    @Test
    void aDirectoryThatCannotBeWritten() throws IOException {
        // /proc/self cannot be written even by root, whose file permissions are otherwise no obstacle
        Path locked = Path.of("/proc/self");
        assumeTrue(Files.isDirectory(locked) && !Files.isWritable(locked), "Linux /proc");
        String target = locked.resolve("ditcache-report").toString();
        assertRefused("profile", "--out " + target + ": directory /proc/self is not writable", "profile", "--model",
                model, "--steps", "3", "--out", target);
    }

    /**
     * A folder under {@code /proc} passes permission bits (root may write the directory {@code /proc}) but takes no
     * new entries: every command refuses it at once, naming the path and the reason, before it loads a model (the
     * model given does not exist, so a later check would fail on it instead) or prints any progress.
     */
    @Test
    void aVirtualFileSystemIsRefusedBeforeAnyWork() {
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc.resolve("self")), "Linux /proc");
        String target = "/proc/ditcache-report";
        String missing = dir.resolve("no-such-model").toString();
        // root passes the permission bits of /proc and meets the probe; anyone else the bits
        boolean root = Files.isWritable(proc);
        String why = root ? "cannot create the folder in /proc (" : "directory /proc is not writable";
        String into = root ? "cannot write into /proc (" : "directory /proc is not writable";
        String expect = "--out " + target + ": " + why;
        assertRefused("profile", expect, "profile", "--model", missing, "--out", target);
        assertRefused("generate", expect, "generate", "--model", missing, "--out", target);
        assertRefused("bench", expect, "bench", "--model", missing, "--out", target);
        assertRefused("study", expect, "study", "--model", missing, "--out", target);
        assertRefused("train", expect, "train", "--data", missing, "--out", target);
        assertRefused("merge", expect, "merge", "--out", target, missing);
        assertRefused("run", "--out /proc/x.safetensors: " + into, "run", "--model", missing, "--out",
                "/proc/x.safetensors");
        assertRefused("run", "--example-inputs /proc/x.safetensors: " + into, "run", "--model", missing,
                "--example-inputs", "/proc/x.safetensors");
        assertRefused("policy", "--out /proc/mask.json: " + into, "policy", "--profile", missing, "--budget", "0.5",
                "--out", "/proc/mask.json");
        if (root) {
            CliRun r = CliRun.of("profile", "--model", missing, "--out", target);
            assertTrue(r.err().contains("a proc file system"), "the reason names the file system: " + r);
        }
    }

    @Test
    void theProbeLeavesNothingBehind() throws IOException {
        Path parent = dir.resolve("fresh");
        Files.createDirectories(parent);
        CliRun r = CliRun.of("profile", "--model", dir.resolve("no-such-model").toString(), "--out",
                parent.resolve("report").toString());
        assertEquals(1, r.exitCode(), "passes the output checks, fails on the model: " + r);
        assertTrue(r.err().contains("no-such-model"), r::toString);
        try (var list = Files.list(parent)) {
            assertEquals(0, list.count(), "no probe directory and no report folder are left");
        }
    }

    /**
     * A study of 100,000 conditions x 10,000 steps x 3 schedulers keeps about 7 TiB of exact distances: refused
     * once the model is known, before any run, with the estimate and the free space.
     */
    @Test
    void aStudyThatCannotFitIsRefusedBeforeItsFirstRun() throws IOException {
        Path out = dir.resolve("huge");
        CliRun r = CliRun.of("study", "--conditions", "100000", "--steps", "10000", "--out", out.toString());
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("study: --out " + out + ": not enough space, this run writes about "),
                r::toString);
        assertTrue(r.err().contains("TiB (300000 runs' distances, the profiles and the page) and "), r::toString);
        assertEquals("", r.out(), r::toString);
        assertTrue(!Files.exists(out), "nothing made");
    }

    @Test
    void notEnoughSpaceNamesWhatTheRunWritesAndWhatIsFree() {
        picocli.CommandLine cl = DitCacheCommand.commandLine();
        picocli.CommandLine.ParameterException e = org.junit.jupiter.api.Assertions.assertThrows(
                picocli.CommandLine.ParameterException.class, () -> OptionChecks.space(cl, "--out",
                        dir.resolve("study"), Long.MAX_VALUE / 4, "1,800 runs' distances"));
        assertTrue(e.getMessage().startsWith("--out " + dir.resolve("study") + ": not enough space, this run "
                + "writes about 2.0 EiB (1,800 runs' distances) and "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" free"), e.getMessage());
        OptionChecks.space(cl, "--out", dir.resolve("study"), 1000, "a small page"); // room enough
        assertEquals("512 B", OptionChecks.size(512));
        assertEquals("1.5 KiB", OptionChecks.size(1536));
        assertEquals("2.4 MiB", OptionChecks.size(2_500_000));
    }

    private static void assertRefused(String command, String fragment, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.errLines().get(0).startsWith(command + ": " + fragment), () -> "want " + fragment + "\n" + r);
        assertEquals("", r.out(), r::toString);
    }
}
