package io.ditcache.cli;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.examples.bench.BenchEnvironment;
import io.ditcache.model.Denoiser;
import io.ditcache.profile.ReadFloorProbe;
import io.ditcache.profile.StreamingProfiler;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.study.Profiling;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * What profiling costs, measured: the same conditions sampled with the {@link StreamingProfiler} attached (arm A)
 * and with {@link ActivationProbe#NONE} (arm B), as pairs in one process after untimed warm-up pairs, each arm
 * first in turn; on request two more runs per pair with a {@link ReadFloorProbe} on the same kinds: arm C holds and
 * reads the activations that any exact step-to-step profile must (the memory floor beside the profiler), arm D reads
 * each activation once and holds nothing (what a statistic of single steps reads, such as the seed study's mean and
 * variance). Each run's probe is made before the run, so a run's time is sampling plus probing only.
 */
final class ProbeOverhead {
    private ProbeOverhead() {
    }

    /**
     * A reference probe's timed runs, in milliseconds per step; both empty where it was not measured.
     *
     * @param runs   wall time of each run, in order
     * @param inside CPU time of the sampling thread inside the probe's calls, per run; empty where unknown
     */
    record ReferenceArm(double[] runs, double[] inside) {
        static final ReferenceArm NONE = new ReferenceArm(new double[0], new double[0]);

        boolean measured() {
            return runs.length > 0;
        }
    }

    /**
     * The timed runs, in milliseconds per step.
     *
     * @param withProbe       arm A's runs, in order (wall time)
     * @param withoutProbe    arm B's runs, in order (wall time)
     * @param withProbeCpu    arm A's runs in CPU time of this process, all threads; empty where unknown
     * @param withoutProbeCpu arm B's runs in CPU time of this process
     * @param insideProbe     arm A's runs: CPU time of the sampling thread spent inside the profiler's calls (its
     *                        own cost, without what the model spends making the activations it asks for)
     * @param readFloor       arm C: holding and reading each consecutive pair ({@link ReadFloorProbe.Reads#PAIRS})
     * @param readCurrent     arm D: reading each activation once ({@link ReadFloorProbe.Reads#CURRENT})
     * @param sameSamples     whether every pair's runs produced bit-identical final latents
     */
    record Figures(double[] withProbe, double[] withoutProbe, double[] withProbeCpu, double[] withoutProbeCpu,
            double[] insideProbe, ReferenceArm readFloor, ReferenceArm readCurrent, boolean sameSamples) {
        /** Median of arm A over median of arm B, minus 1. */
        double overhead() {
            return median(withProbe) / median(withoutProbe) - 1;
        }

        /** The median over the pairs of {@code A / B - 1}: robust to drift between pairs. */
        double pairOverhead() {
            return pairMedian(withProbe, withoutProbe);
        }

        /** Median of a reference arm over median of arm B, minus 1; NaN where it was not measured. */
        double overheadOf(ReferenceArm arm) {
            return arm.measured() ? median(arm.runs()) / median(withoutProbe) - 1 : Double.NaN;
        }

        /** The median over the pairs of {@code arm / B - 1}; NaN where the arm was not measured. */
        double pairOverheadOf(ReferenceArm arm) {
            return arm.measured() ? pairMedian(arm.runs(), withoutProbe) : Double.NaN;
        }

        private static double pairMedian(double[] arm, double[] base) {
            double[] r = new double[arm.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = arm[i] / base[i] - 1;
            }
            return median(r);
        }

        /**
         * As {@link #overhead()} in CPU time: on a machine that other processes keep busy, wall time measures them
         * too, CPU time much less. NaN where CPU time is unknown, or where the arm without the profiler measured none
         * (runs shorter than the clock's resolution: the process CPU clock counts in ticks of 10 ms on Linux).
         */
        double cpuOverhead() {
            return withProbeCpu.length == 0 || !(median(withoutProbeCpu) > 0) ? Double.NaN
                    : median(withProbeCpu) / median(withoutProbeCpu) - 1;
        }
    }

    /**
     * Runs {@code warmups} untimed pairs, then {@code repeats} timed pairs: A and B (and C and D when {@code floor}),
     * the order rotating from pair to pair (AB, BA, ... or ABCD, BCDA, CDAB, DABC, ...), so that each arm runs at each
     * place in a pair equally often and no arm always follows the same one.
     *
     * @param schedulers a fresh scheduler per run
     * @param onRun      told 1, 2, ... after each run (warm-up runs included), for a progress line
     */
    static Figures measure(Denoiser model, String name, Supplier<Scheduler> schedulers, SamplingOptions options,
            Set<SiteKind> kinds, boolean forecastError, boolean floor, int warmups, int repeats, IntConsumer onRun) {
        int arms = armsPerPair(floor);
        double[][] wall = new double[arms][repeats];
        double[][] inside = new double[arms][repeats];
        double[] withCpu = new double[repeats];
        double[] withoutCpu = new double[repeats];
        boolean same = true;
        int runs = 0;
        for (int p = -warmups; p < repeats; p++) {
            float[][] samples = new float[arms][];
            for (int k = 0; k < arms; k++) {
                int arm = Math.floorMod(p + k, arms);
                TimedProbe probe = switch (arm) {
                    case 0 -> new TimedProbe(new StreamingProfiler(new RedundancyProfile(Profiling.describe(model,
                            name), Map.of(), model.layers(), options.steps()), kinds, forecastError));
                    case 1 -> null;
                    case 2 -> new TimedProbe(new ReadFloorProbe(kinds, ReadFloorProbe.Reads.PAIRS));
                    default -> new TimedProbe(new ReadFloorProbe(kinds, ReadFloorProbe.Reads.CURRENT));
                };
                Sampler sampler = new Sampler(model, schedulers.get());
                long c0 = BenchEnvironment.processCpuNanos();
                long t0 = System.nanoTime();
                samples[arm] = sampler.sample(options, probe == null ? ActivationProbe.NONE : probe).values();
                long t1 = System.nanoTime();
                long c1 = BenchEnvironment.processCpuNanos();
                if (probe != null && probe.inner instanceof ReadFloorProbe reader) {
                    reader.close();
                }
                onRun.accept(++runs);
                if (p < 0) {
                    continue;
                }
                wall[arm][p] = (t1 - t0) / 1e6 / options.steps();
                inside[arm][p] = probe == null ? 0 : probe.nanos / 1e6 / options.steps();
                double cpu = (c1 - c0) / 1e6 / options.steps();
                if (arm == 0) {
                    withCpu[p] = cpu;
                } else if (arm == 1) {
                    withoutCpu[p] = cpu;
                }
            }
            for (int arm = 0; arm < arms; arm++) {
                same &= Arrays.equals(samples[arm], samples[1]);
            }
        }
        boolean cpuKnown = BenchEnvironment.processCpuNanos() >= 0;
        boolean threadCpuKnown = THREADS.isCurrentThreadCpuTimeSupported();
        ReferenceArm[] refs = new ReferenceArm[] {ReferenceArm.NONE, ReferenceArm.NONE};
        for (int arm = 2; arm < arms; arm++) {
            refs[arm - 2] = new ReferenceArm(wall[arm], threadCpuKnown ? inside[arm] : new double[0]);
        }
        return new Figures(wall[0], wall[1], cpuKnown ? withCpu : new double[0], cpuKnown ? withoutCpu : new double[0],
                threadCpuKnown ? inside[0] : new double[0], refs[0], refs[1], same);
    }

    /** Runs per pair: the profiler and none, and the two reference probes under {@code --floor}. */
    static int armsPerPair(boolean floor) {
        return floor ? 4 : 2;
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Passes everything to a probe and adds up the calling thread's CPU time inside its calls. */
    private static final class TimedProbe implements ActivationProbe {
        private final ActivationProbe inner;
        long nanos;

        TimedProbe(ActivationProbe inner) {
            this.inner = inner;
        }

        @Override
        public boolean wants(Site site) {
            return inner.wants(site);
        }

        @Override
        public void observe(Step step, Site site, Tensor activation) {
            long t0 = THREADS.getCurrentThreadCpuTime();
            inner.observe(step, site, activation);
            nanos += THREADS.getCurrentThreadCpuTime() - t0;
        }

        @Override
        public void observeResidual(Step step, Site site, Tensor output, Tensor input) {
            long t0 = THREADS.getCurrentThreadCpuTime();
            inner.observeResidual(step, site, output, input);
            nanos += THREADS.getCurrentThreadCpuTime() - t0;
        }

        @Override
        public void endRun() {
            long t0 = THREADS.getCurrentThreadCpuTime();
            inner.endRun();
            nanos += THREADS.getCurrentThreadCpuTime() - t0;
        }
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }
}
