package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every count option is checked before any work: a value outside its range, including one whose products with
 * other sizes would overflow an int, exits with 2 and one line naming the option, the value and the range.
 */
class CountOptionsTest {
    @TempDir
    Path dir;
    String out;
    String model;

    @BeforeEach
    void paths() throws IOException {
        out = dir.resolve("out").toString();
        model = FixtureDit.checkpoint(dir.resolve("dit")).toString();
    }

    @Test
    void samplesThatOverflowTheImageArray() throws IOException {
        // 200,000,000 x 784 pixels overflows an int: this once failed as "generate: -2113789952" with exit 1
        String line = assertOutOfRange("--samples 200000000: expected 2..", "generate", "--samples", "200000000",
                "--out", out);
        long most = GenerateCommand.maxSamples();
        assertTrue(line.contains("2.." + most + " ("), line);
        assertTrue(most * 784 <= Integer.MAX_VALUE, "the limit keeps the pixels in one array");
        assertOutOfRange("--samples " + (most + 1) + ": expected 2.." + most, "generate", "--samples",
                Long.toString(most + 1), "--out", out);
        assertOutOfRange("--samples 1: expected 2..", "generate", "--samples", "1", "--out", out);
    }

    @Test
    void generateStepsAndSeeds() throws IOException {
        assertOutOfRange("--steps 0: expected 1..10000", "generate", "--steps", "0", "--out", out);
        assertOutOfRange("--steps 10001: expected 1..10000", "generate", "--steps", "10001", "--out", out);
        assertOutOfRange("--seed 9223372036854775807: expected -9223372036854775808..9223372036854775708",
                "generate", "--seed", Long.toString(Long.MAX_VALUE), "--samples", "100", "--out", out);
    }

    @Test
    void valuesBeyondAnIntAreRefusedByName() throws IOException {
        assertOutOfRange("--samples", "generate", "--samples", "99999999999", "--out", out);
    }

    @Test
    void benchCounts() throws IOException {
        assertOutOfRange("--repeats 0: expected 1..1000", "bench", "--repeats", "0", "--out", out);
        // cases x 2 x repeats counts the runs in an int
        assertOutOfRange("--repeats 2000000000: expected 1..1000", "bench", "--repeats", "2000000000", "--out", out);
        assertOutOfRange("--batch 0: expected >= 1", "bench", "--batch", "0", "--out", out);
        assertOutOfRange("--samples 1: expected 2..", "bench", "--samples", "1", "--out", out);
        // the fixture's samples are 4x8x8: 200,000,000 of them overflow the array of samples
        String line = assertOutOfRange("--samples 200000000: expected 2..", "bench", "--model", model,
                "--samples", "200000000", "--out", out);
        assertTrue(line.contains("each sample"), line);
    }

    @Test
    void trainCounts() throws IOException {
        String data = dir.resolve("no-data").toString();
        assertOutOfRange("--steps 0: expected >= 1", "train", "--data", data, "--steps", "0", "--out", out);
        assertOutOfRange("--batch 0: expected 1..", "train", "--data", data, "--batch", "0", "--out", out);
        assertOutOfRange("--batch 200000000: expected 1..", "train", "--data", data, "--batch", "200000000",
                "--out", out);
        assertOutOfRange("--checkpoint-every 0: expected >= 1", "train", "--data", data, "--checkpoint-every", "0",
                "--out", out);
        assertOutOfRange("--lr 0.0: expected a finite number > 0", "train", "--data", data, "--lr", "0", "--out",
                out);
    }

    @Test
    void profileAndPolicySteps() throws IOException {
        assertOutOfRange("--steps 10001: expected 2..10000", "profile", "--model", model, "--steps", "10001",
                "--out", out);
        assertOutOfRange("--steps 20000: expected 2..10000", "policy", "--profile", dir.resolve("p.json").toString(),
                "--budget", "0.5", "--steps", "20000", "--out", dir.resolve("m.json").toString());
    }

    /** Exit 2, one line starting with the command and containing {@code fragment}, nothing written. */
    private String assertOutOfRange(String fragment, String... args) throws IOException {
        List<Path> before = files();
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        String line = r.errLines().get(0);
        assertTrue(line.startsWith(args[0] + ": ") && line.contains(fragment), () -> "want '" + fragment + "'\n" + r);
        assertFalse(line.contains("Exception"), r::toString);
        assertEquals(before, files(), "nothing written");
        return line;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.sorted().toList();
        }
    }
}
