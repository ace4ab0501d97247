package io.ditcache.examples.bench;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.model.flux.FluxConfig;
import io.ditcache.model.flux.FluxModel;
import io.ditcache.profile.StreamingProfiler;
import io.ditcache.study.Profiling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A FLUX-shaped model at FLUX.1's real width (24 heads x 128 = 3072, joint 4096, pooled 768, guidance embedded)
 * with 2 double and 2 single blocks and random weights, run at FLUX.1-dev's default size (a 128 x 128 latent:
 * 4096 image tokens) with 512 text tokens, the {@link StreamingProfiler} attached for every site kind: the time
 * of each block (from the end of the previous block's last site to the end of its own, so it includes the
 * profiler's work; block 0 also includes the embedders and RoPE) for a first step (activations retained) and the
 * next ones (each compared with the step before), and the peak resident set ({@code VmHWM}).
 *
 * <p>The weights alone are 3.8 GiB of float32: JavaCPP's default limit on native memory (4 x -Xmx) must be
 * lifted.
 *
 * <pre>
 * OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 java -Xmx2g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *   -cp ... io.ditcache.examples.bench.FluxRealWidth [steps, default 2]
 * </pre>
 */
public final class FluxRealWidth {
    /**
     * @param doubleMs  per step, per double block, milliseconds
     * @param singleMs  per step, per single block, milliseconds
     * @param stepMs    per step, the whole forward, milliseconds
     * @param peakRss   {@code VmHWM} at the end, bytes
     * @param parameters the model's parameters
     * @param compared  cells of the profile filled (K, image stream, every block and transition): the profiler
     *                  compared each step with the one before
     */
    public record Figures(double[][] doubleMs, double[][] singleMs, double[] stepMs, long peakRss, long parameters,
            long compared) {
    }

    private FluxRealWidth() {
    }

    /** FLUX.1's width and conditioning, with 2 double and 2 single blocks. */
    public static final FluxConfig REAL_WIDTH = new FluxConfig(1, 64, 64, 2, 2, 24, 128, 4096, 768, true,
            List.of(16, 56, 56));

    /** {@link #REAL_WIDTH} at a 128 x 128 latent (4096 image tokens) and 512 text tokens. */
    public static Figures run(int steps) {
        return run(REAL_WIDTH, 128, 512, steps);
    }

    /**
     * Builds a model of {@code config} (random weights, 2 double and 2 single blocks expected) and runs
     * {@code steps} profiled forwards on a {@code side x side} latent and {@code textTokens} text tokens.
     */
    public static Figures run(FluxConfig config, int side, int textTokens, int steps) {
        if (config.numLayers() != 2 || config.numSingleLayers() != 2) {
            throw new IllegalArgumentException("expected 2 double and 2 single blocks, got " + config.numLayers()
                    + " and " + config.numSingleLayers());
        }
        torch.manual_seed(0);
        FluxModel model = new FluxModel(config);
        RedundancyProfile profile = new RedundancyProfile(Profiling.describe(model, "flux-real-width"), Map.of(),
                model.layers(), steps);
        StreamingProfiler profiler = new StreamingProfiler(profile);
        int layers = model.layers();
        long[] blockEnd = new long[layers];
        ActivationProbe timed = new ActivationProbe() {
            @Override
            public boolean wants(Site site) {
                return profiler.wants(site);
            }

            @Override
            public void observe(Step step, Site site, Tensor activation) {
                profiler.observe(step, site, activation);
                blockEnd[site.layer()] = System.nanoTime();
            }

            @Override
            public void observeResidual(Step step, Site site, Tensor output, Tensor input) {
                profiler.observeResidual(step, site, output, input);
                blockEnd[site.layer()] = System.nanoTime();
            }
        };
        double[][] doubles = new double[steps][2];
        double[][] singles = new double[steps][2];
        double[] total = new double[steps];
        try (InferenceMode mode = new InferenceMode(); PointerScope outer = new PointerScope()) {
            TextEmbeddings text = new TextEmbeddings(torch.randn(1, textTokens, config.jointAttentionDim()),
                    Optional.empty(), Optional.of(torch.randn(1, config.pooledProjectionDim())), Optional.empty(),
                    OptionalDouble.of(3.5));
            Tensor latents = torch.randn(1, config.inChannels() / 4, side, side);
            for (int i = 0; i < steps; i++) {
                try (PointerScope scope = new PointerScope()) {
                    double t = 1000.0 * (steps - i) / steps;
                    Tensor ts = torch.full(new long[] {1}, new Scalar((float) t), new TensorOptions(ScalarType.Float));
                    Step step = new Step(i, steps, t, List.of(Branch.COND));
                    long start = System.nanoTime();
                    model.forward(latents, ts, text, step, timed);
                    long end = System.nanoTime();
                    total[i] = (end - start) / 1e6;
                    long previous = start;
                    for (int b = 0; b < layers; b++) {
                        double ms = (blockEnd[b] - previous) / 1e6;
                        previous = blockEnd[b];
                        if (b < 2) {
                            doubles[i][b] = ms;
                        } else {
                            singles[i][b - 2] = ms;
                        }
                    }
                }
            }
            profiler.endRun();
        }
        long compared = 0;
        var k = profile.series(SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN));
        if (k.isPresent()) {
            for (int b = 0; b < layers; b++) {
                for (int i = 0; i < steps - 1; i++) {
                    compared += k.get().count(b, i);
                }
            }
        }
        return new Figures(doubles, singles, total, peakRss(), model.info().parameterCount(), compared);
    }

    /** {@code VmHWM} of /proc/self/status, bytes. */
    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmHWM line in /proc/self/status");
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        System.out.println(BenchEnvironment.describe());
        Figures f = run(steps);
        System.out.printf(Locale.ROOT, "parameters: %d%n", f.parameters());
        for (int i = 0; i < steps; i++) {
            System.out.printf(Locale.ROOT, "step %d: forward %.0f ms; double blocks %s ms; single blocks %s ms%n", i,
                    f.stepMs()[i], fmt(f.doubleMs()[i]), fmt(f.singleMs()[i]));
        }
        System.out.printf(Locale.ROOT, "peak RSS (VmHWM): %.2f GiB%n", f.peakRss() / (double) (1L << 30));
    }

    private static String fmt(double[] ms) {
        return Arrays.toString(Arrays.stream(ms).map(Math::rint).toArray());
    }
}
