package io.ditcache.examples.bench;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import io.ditcache.profile.StreamingProfiler;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What profiling costs: the embedded default model sampled with the redundancy profiler attached
 * ({@link Profiling#run}) and without a probe ({@link Sampler} with {@link ActivationProbe#NONE}), as A/B pairs
 * in one process after a warm-up pair; medians of the pairs.
 *
 * <pre>
 * OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
 *   java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.bench.ProbeOverheadBenchmark [pairs] [conditions] [steps]
 * </pre>
 */
public final class ProbeOverheadBenchmark {

    /**
     * Median wall times in milliseconds of one sampling run.
     *
     * @param profiled      with the profiler attached (every site kind, four metrics)
     * @param plain         with {@link ActivationProbe#NONE}
     * @param pairOverhead  median over the pairs of {@code profiled / plain - 1}, in percent
     * @param sameSamples   whether both runs produced bit-identical final latents
     * @param profiledRuns  every timed profiled run, in order
     * @param plainRuns     every timed plain run, in order
     */
    public record Figures(int conditions, int steps, double guidance, int pairs, double profiled, double plain,
            double pairOverhead, boolean sameSamples, double[] profiledRuns, double[] plainRuns) {
        /** Overhead of the medians, in percent. */
        public double overhead() {
            return 100 * (profiled / plain - 1);
        }
    }

    private ProbeOverheadBenchmark() {
    }

    /** Samples {@code conditions} classes (labels mod 10, seed = index) for {@code steps} DDIM steps, guidance 4. */
    public static Figures run(Denoiser model, int conditions, int steps, int warmupPairs, int pairs) {
        List<Condition> conds = new ArrayList<>();
        for (int i = 0; i < conditions; i++) {
            conds.add(new Condition(i % model.info().classes(), i));
        }
        SamplingOptions options = new SamplingOptions(conds, steps, SamplingOptions.DEFAULT_GUIDANCE);
        double[] profiled = new double[pairs];
        double[] plain = new double[pairs];
        double[] ratio = new double[pairs];
        boolean same = true;
        for (int p = -warmupPairs; p < pairs; p++) {
            long t0 = System.nanoTime();
            Profiling.run(model, DefaultModel.NAME, Schedulers.create("ddim", Map.of()), options, null);
            long t1 = System.nanoTime();
            float[] a = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, ActivationProbe.NONE)
                    .values();
            long t2 = System.nanoTime();
            if (p >= 0) {
                profiled[p] = (t1 - t0) / 1e6;
                plain[p] = (t2 - t1) / 1e6;
                ratio[p] = 100 * (profiled[p] / plain[p] - 1);
            } else {
                // Profiling.run does not return its samples: compare a profiled Sampler run once, outside timing.
                RedundancyProfile profile = new RedundancyProfile(Profiling.describe(model, DefaultModel.NAME), Map.of(),
                        model.layers(), steps);
                float[] b = new Sampler(model, Schedulers.create("ddim", Map.of()))
                        .sample(options, new StreamingProfiler(profile)).values();
                same &= Arrays.equals(a, b);
            }
        }
        return new Figures(conditions, steps, options.guidance(), pairs, BenchEnvironment.median(profiled),
                BenchEnvironment.median(plain), BenchEnvironment.median(ratio), same, profiled, plain);
    }

    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int conditions = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        java.nio.file.Path dir = args.length > 3 ? java.nio.file.Path.of(args[3]) : null;
        System.out.println("ProbeOverheadBenchmark: " + (dir == null ? "default model" : dir) + ", DDIM, " + conditions
                + " conditions x " + steps
                + " steps, guidance " + SamplingOptions.DEFAULT_GUIDANCE + " (batch " + 2 * conditions + ")");
        System.out.println(BenchEnvironment.describe());
        Figures f = run(dir == null ? DefaultModel.load() : io.ditcache.model.ModelLoader.load(dir), conditions, steps, 1,
                pairs);
        System.out.printf(Locale.ROOT, "median of %d A/B pairs after 1 warm-up pair:%n", f.pairs());
        System.out.printf(Locale.ROOT, "  A profiled (StreamingProfiler, all sites)  %9.1f ms  (%.2f ms/step)%n",
                f.profiled(), f.profiled() / f.steps());
        System.out.printf(Locale.ROOT, "  B plain (ActivationProbe.NONE)             %9.1f ms  (%.2f ms/step)%n",
                f.plain(), f.plain() / f.steps());
        StringBuilder runs = new StringBuilder("  pairs (A ms / B ms):");
        for (int p = 0; p < f.pairs(); p++) {
            runs.append(String.format(Locale.ROOT, " %.0f/%.0f", f.profiledRuns()[p], f.plainRuns()[p]));
        }
        System.out.println(runs);
        System.out.printf(Locale.ROOT, "overhead: %.1f %% (of the medians), %.1f %% (median of the pairs); target <= 10 %%%n",
                f.overhead(), f.pairOverhead());
        System.out.println("final latents identical with and without the profiler: " + f.sameSamples());
    }
}
