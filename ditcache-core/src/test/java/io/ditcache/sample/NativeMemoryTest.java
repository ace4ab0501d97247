package io.ditcache.sample;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory stays flat over a long profiled sampling run: one scope per step in the sampler, nothing kept by
 * the schedulers or the profiler beyond one previous activation per site. A memory bound, not a timing.
 *
 * <p>RSS also holds the Java heap, whose resident part grew by up to ~130 MB over this run as the young
 * generation touched more of it; so each reading follows a full collection, waits until G1 has given the freed
 * heap back, and subtracts the committed heap. Native growth measured that way was 1 to 12 MB; without the
 * sampler's per-step scope it was about 210 MB.
 */
class NativeMemoryTest {
    private static final int STEPS = 300;
    private static final int WARMUP_STEPS = 50;
    private static final long BOUND = 64L << 20;

    @Test
    @EnabledOnOs(value = OS.LINUX, disabledReason = "reads /proc/self/status")
    void nativeMemoryGrowsLessThan64MbOver250ProfiledSteps(@TempDir Path dir) throws IOException {
        DiTModel model = (DiTModel) ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
        SamplingOptions options = new SamplingOptions(
                List.of(new Condition(1, 1), new Condition(2, 2), new Condition(3, 3), new Condition(4, 4)), STEPS, 4.0);
        long[] nativeBytes = new long[2];
        Profiling.run(model, "fixture", Schedulers.create("ddim", Map.of()), options, null,
                inner -> ActivationProbe.onEachStep(inner, step -> {
                    if (step == WARMUP_STEPS) {
                        nativeBytes[0] = nativeBytes();
                    }
                }));
        nativeBytes[1] = nativeBytes();
        long growth = nativeBytes[1] - nativeBytes[0];
        assertTrue(nativeBytes[0] > 0 && growth < BOUND, "RSS less committed heap grew by " + growth / (1 << 20)
                + " MB from step " + WARMUP_STEPS + " (" + nativeBytes[0] / (1 << 20) + " MB) to step " + STEPS + " ("
                + nativeBytes[1] / (1 << 20) + " MB); bound " + BOUND / (1 << 20) + " MB");
    }

    /** RSS less the committed Java heap, after a full collection and once G1 has given the freed heap back. */
    static long nativeBytes() {
        System.gc();
        long last = Long.MIN_VALUE;
        for (int i = 0; i < 20; i++) { // G1 uncommits concurrently: wait until RSS settles (at most 2 s)
            long now = rssBytes() - ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
            if (Math.abs(now - last) < (1 << 20)) {
                return now;
            }
            last = now;
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return last;
    }

    /** VmRSS of /proc/self/status, in bytes. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS line in /proc/self/status");
    }
}
