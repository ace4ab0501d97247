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

    private static void assertRefused(String command, String fragment, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.errLines().get(0).startsWith(command + ": " + fragment), () -> "want " + fragment + "\n" + r);
        assertEquals("", r.out(), r::toString);
    }
}
