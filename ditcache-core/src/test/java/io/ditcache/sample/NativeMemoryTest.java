package io.ditcache.sample;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.Step;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.profile.Profiling;
import io.ditcache.sched.Schedulers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory stays flat over a long profiled sampling run: one scope per step in the sampler, nothing kept by
 * the schedulers or the profiler beyond one previous activation per site. A memory bound, not a timing.
 */
class NativeMemoryTest {
    private static final int STEPS = 300;
    private static final int WARMUP_STEPS = 50;
    private static final long BOUND = 64L << 20;

    @Test
    @EnabledOnOs(value = OS.LINUX, disabledReason = "reads /proc/self/status")
    void rssGrowsLessThan64MbOver250ProfiledSteps(@TempDir Path dir) throws IOException {
        DiTModel model = ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
        SamplingOptions options = new SamplingOptions(
                List.of(new Condition(1, 1), new Condition(2, 2), new Condition(3, 3), new Condition(4, 4)), STEPS, 4.0);
        long[] rss = new long[2];
        Profiling.run(model, "fixture", Schedulers.create("ddim", Map.of()), options, null, inner -> new ActivationProbe() {
            private int lastStep = -1;

            @Override
            public boolean wants(Site site) {
                return inner.wants(site);
            }

            @Override
            public void observe(Step step, Site site, Tensor activation) {
                if (step.index() != lastStep) {
                    lastStep = step.index();
                    if (step.index() == WARMUP_STEPS) {
                        rss[0] = rssBytes();
                    }
                }
                inner.observe(step, site, activation);
            }

            @Override
            public void endRun() {
                inner.endRun();
                rss[1] = rssBytes();
            }
        });
        long growth = rss[1] - rss[0];
        assertTrue(rss[0] > 0 && growth < BOUND, "RSS grew by " + growth / (1 << 20) + " MB from step " + WARMUP_STEPS
                + " (" + rss[0] / (1 << 20) + " MB) to step " + STEPS + " (" + rss[1] / (1 << 20) + " MB); bound "
                + BOUND / (1 << 20) + " MB");
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
