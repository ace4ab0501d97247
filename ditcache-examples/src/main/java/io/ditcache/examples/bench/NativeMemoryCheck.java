package io.ditcache.examples.bench;

import io.ditcache.ActivationProbe;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether native memory stays flat over a long sampling loop: the default model sampled for many DDIM steps
 * with the profiler attached, the process RSS ({@code VmRSS}) read every few steps after a warm-up run.
 *
 * <pre>
 * OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
 *   java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.bench.NativeMemoryCheck [steps] [conditions]
 * </pre>
 */
public final class NativeMemoryCheck {

    /**
     * The RSS series of the measured run.
     *
     * @param steps       sampling steps of the measured run
     * @param at          steps after which RSS was read (0 = before the first step)
     * @param rss         RSS in bytes at each of {@code at}
     * @param heap        committed Java heap in bytes at each of {@code at} (part of RSS once touched)
     * @param warmupSteps steps of the measured run treated as warm-up (the baseline is read after them)
     * @param nativeBefore RSS less committed heap after a full collection, after the warm-up run
     * @param nativeAtEnd  the same after the measured run
     */
    public record Figures(int steps, int conditions, int[] at, long[] rss, long[] heap, int warmupSteps,
            long nativeBefore, long nativeAtEnd) {
        /** RSS after warm-up. */
        public long baseline() {
            for (int i = 0; i < at.length; i++) {
                if (at[i] >= warmupSteps) {
                    return rss[i];
                }
            }
            throw new IllegalStateException("no reading after " + warmupSteps + " steps");
        }

        public long max() {
            long m = Long.MIN_VALUE;
            for (long r : rss) {
                m = Math.max(m, r);
            }
            return m;
        }

        public long last() {
            return rss[rss.length - 1];
        }

        /** (final - baseline) per 100 steps, in bytes. */
        public double growthPer100Steps() {
            return (last() - baseline()) * 100.0 / (steps - warmupSteps);
        }

        /** Growth of {@link #nativeAtEnd} over {@link #nativeBefore} per 100 steps, in bytes. */
        public double nativeGrowthPer100Steps() {
            return (nativeAtEnd - nativeBefore) * 100.0 / steps;
        }

        /** Least-squares slope of RSS over the readings after warm-up, in bytes per 100 steps. */
        public double slopePer100Steps() {
            double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (int i = 0; i < at.length; i++) {
                if (at[i] >= warmupSteps) {
                    n++;
                    sx += at[i];
                    sy += rss[i];
                    sxx += (double) at[i] * at[i];
                    sxy += (double) at[i] * rss[i];
                }
            }
            return 100 * (n * sxy - sx * sy) / (n * sxx - sx * sx);
        }
    }

    private NativeMemoryCheck() {
    }

    /**
     * Runs a 50-step warm-up, reads the native estimate, then samples {@code steps} steps reading RSS every
     * {@code every} steps, and reads the native estimate again.
     *
     * @param warmupSteps steps of the measured run before the RSS baseline (the Java heap, shrunk by the full
     *                    collection of the first native reading, grows back over the first ~100 steps)
     */
    public static Figures run(Denoiser model, int conditions, int steps, int every, int warmupSteps) {
        List<Condition> conds = new ArrayList<>();
        for (int i = 0; i < conditions; i++) {
            conds.add(new Condition(i % model.info().classes(), i));
        }
        Profiling.run(model, DefaultModel.NAME, Schedulers.create("ddim", Map.of()),
                new SamplingOptions(conds, 50, SamplingOptions.DEFAULT_GUIDANCE), null);
        long nativeBefore = BenchEnvironment.settledNativeBytes();
        RssReadings readings = new RssReadings(every);
        Profiling.run(model, DefaultModel.NAME, Schedulers.create("ddim", Map.of()),
                new SamplingOptions(conds, steps, SamplingOptions.DEFAULT_GUIDANCE), null, readings::wrap);
        readings.read(steps); // after the last step
        long nativeAtEnd = BenchEnvironment.settledNativeBytes();
        return new Figures(steps, conditions, readings.at.stream().mapToInt(Integer::intValue).toArray(),
                readings.rss.stream().mapToLong(Long::longValue).toArray(),
                readings.heap.stream().mapToLong(Long::longValue).toArray(), warmupSteps, nativeBefore, nativeAtEnd);
    }

    /** Reads RSS when a step whose index is a multiple of {@code every} starts, i.e. after that many steps. */
    private static final class RssReadings {
        final int every;
        final List<Integer> at = new ArrayList<>();
        final List<Long> rss = new ArrayList<>();
        final List<Long> heap = new ArrayList<>();

        RssReadings(int every) {
            this.every = every;
        }

        void read(int stepsDone) {
            at.add(stepsDone);
            rss.add(BenchEnvironment.rssBytes());
            heap.add(BenchEnvironment.heapCommittedBytes());
        }

        ActivationProbe wrap(ActivationProbe inner) {
            return ActivationProbe.onEachStep(inner, step -> {
                if (step % every == 0) {
                    read(step);
                }
            });
        }
    }

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int conditions = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int every = 25;
        int warmup = 100;
        System.out.println("NativeMemoryCheck: default model, DDIM, " + conditions + " conditions x " + steps
                + " steps, guidance " + SamplingOptions.DEFAULT_GUIDANCE + ", profiler attached; a 50-step warm-up run"
                + " first, VmRSS every " + every + " steps; RSS baseline after " + warmup + " steps");
        System.out.println(BenchEnvironment.describe());
        System.out.println("JVM max heap: " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB");
        Figures f = run(DefaultModel.load(), conditions, steps, every, warmup);
        StringBuilder series = new StringBuilder("RSS (MB) after step:");
        for (int i = 0; i < f.at().length; i++) {
            series.append(String.format(Locale.ROOT, " %d:%.1f", f.at()[i], f.rss()[i] / 1048576.0));
        }
        System.out.println(series);
        StringBuilder heap = new StringBuilder("committed Java heap (MB), part of RSS once touched:");
        for (int i = 0; i < f.at().length; i++) {
            heap.append(String.format(Locale.ROOT, " %d:%.0f", f.at()[i], f.heap()[i] / 1048576.0));
        }
        System.out.println(heap);
        System.out.printf(Locale.ROOT, "RSS after warm-up (step %d): %.1f MB; max %.1f MB; final %.1f MB%n",
                f.warmupSteps(), f.baseline() / 1048576.0, f.max() / 1048576.0, f.last() / 1048576.0);
        System.out.printf(Locale.ROOT, "RSS growth per 100 steps: %.2f MB (final - after warm-up), %.2f MB (least-squares"
                + " slope after warm-up)%n", f.growthPer100Steps() / 1048576.0, f.slopePer100Steps() / 1048576.0);
        System.out.printf(Locale.ROOT, "native estimate (RSS - committed heap, after a full GC and G1's uncommit):"
                + " %.1f MB before the %d steps, %.1f MB after: %.2f MB per 100 steps%n",
                f.nativeBefore() / 1048576.0, f.steps(), f.nativeAtEnd() / 1048576.0, f.nativeGrowthPer100Steps() / 1048576.0);
    }
}
