package io.ditcache.consumer;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.RedundancyProfile;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.CacheRuntime;
import io.ditcache.cache.Streams;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.Policies;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.profile.StreamingProfiler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A diffusion loop of the user's own, outside ditcache's build: three blocks of plain libtorch ops (an attention
 * stand-in and a feed-forward, each gated by the noise level) on 16 tokens, sampled by Euler steps of a
 * flow-matching ODE. It profiles itself with ditcache's {@link StreamingProfiler}, plans a profile-guided compute
 * mask, and samples through ditcache's {@link CacheRuntime} with the mask and with MagCache ratios from the profile.
 */
public final class ForeignLoop {
    static final int BLOCKS = 3;
    static final int TOKENS = 16;
    static final int DIM = 16;
    static final int STEPS = 20;
    static final List<Branch> ROWS = List.of(Branch.COND, Branch.COND);
    static final BlockLayout LAYOUT = BlockLayout.plain(BLOCKS);

    private final Tensor[] attention = new Tensor[BLOCKS];
    private final Tensor[] feedForward = new Tensor[BLOCKS];

    /** One policy's figures: the share of block evaluations skipped, and the largest change of the result. */
    public record Result(String policy, double skippedFraction, double maxAbsError) {
    }

    ForeignLoop(long seed) {
        Random random = new Random(seed);
        for (int l = 0; l < BLOCKS; l++) {
            attention[l] = gaussian(random, 1 / Math.sqrt(DIM), DIM, DIM);
            feedForward[l] = gaussian(random, 1 / Math.sqrt(DIM), DIM, DIM);
        }
    }

    private static Tensor gaussian(Random random, double std, long... shape) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        Tensor t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
        t.data_ptr_float().put(v);
        t.retainReference(); // kept across the runs' pointer scopes
        return t;
    }

    private static Tensor rmsNorm(Tensor x) {
        return x.mul(x.mul(x).mean(new long[] {2}, true, new ScalarTypeOptional()).add(new Scalar(1e-6)).rsqrt());
    }

    /** The noise level's gate {@code [rows, 1, 1]}: how strongly each block writes at this step. */
    private static Tensor gate(double sigma, int rows) {
        float[] g = new float[rows];
        for (int r = 0; r < rows; r++) {
            g[r] = (float) (0.4 + 0.3 * Math.cos(3 * sigma + r));
        }
        Tensor t = torch.empty(new long[] {rows, 1, 1}, new TensorOptions(ScalarType.Float), null);
        t.data_ptr_float().put(g);
        return t;
    }

    /** Block {@code l}, taking the parts the cache hands in as given. */
    BlockOutput block(int l, Tensor x, Tensor g, Map<BlockPart, Tensor> reused, Step step, ActivationProbe probe) {
        Tensor a = reused.containsKey(BlockPart.SELF_ATTENTION) ? reused.get(BlockPart.SELF_ATTENTION)
                : torch.tanh(rmsNorm(x).matmul(attention[l]));
        probe.observe(step, Site.of(l, SiteKind.ATTN_OUT), a);
        Tensor h = x.add(g.mul(a));
        Tensor m = reused.containsKey(BlockPart.FEED_FORWARD) ? reused.get(BlockPart.FEED_FORWARD)
                : torch.gelu(rmsNorm(h).matmul(feedForward[l]));
        probe.observe(step, Site.of(l, SiteKind.MLP_OUT), m);
        return new BlockOutput(Streams.of(h.add(g.mul(m))), Map.of(BlockPart.SELF_ATTENTION, a,
                BlockPart.FEED_FORWARD, m));
    }

    /** The clean tokens the model predicts; blocks through {@code runtime} when there is one. */
    Tensor denoise(Tensor x, Tensor g, Step step, ActivationProbe probe, CacheRuntime runtime) {
        Tensor h = x;
        for (int l = 0; l < BLOCKS; l++) {
            int layer = l;
            h = runtime == null ? block(l, h, g, Map.of(), step, probe).output().image()
                    : runtime.block(step, l, h, (rows, in, reused) -> block(layer, in.image(), rows.select(g),
                            reused, step, probe));
        }
        return rmsNorm(h);
    }

    /** Euler flow-matching steps from seeded noise; the final tokens. {@code runtime} may be null (uncached). */
    float[] sample(CacheRuntime runtime, ActivationProbe probe) {
        try (PointerScope scope = new PointerScope()) {
            Random random = new Random(42);
            float[] noise = new float[ROWS.size() * TOKENS * DIM];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) random.nextGaussian();
            }
            Tensor x = torch.empty(new long[] {ROWS.size(), TOKENS, DIM}, new TensorOptions(ScalarType.Float), null);
            x.data_ptr_float().put(noise);
            for (int i = 0; i < STEPS; i++) {
                double sigma = 1.0 - (double) i / STEPS;
                double next = 1.0 - (double) (i + 1) / STEPS;
                Step step = new Step(i, STEPS, 1000 * sigma, ROWS);
                Tensor x0 = denoise(x, gate(sigma, ROWS.size()), step, probe, runtime);
                x = x.add(x.sub(x0).mul(new Scalar((next - sigma) / sigma)));
            }
            float[] out = new float[(int) x.numel()];
            x.contiguous().data_ptr_float().get(out);
            return out;
        }
    }

    /** Sampling through the runtime with {@code policy}. */
    float[] sample(CachePolicy policy, CacheStats stats, ActivationProbe probe) {
        try (CacheRuntime runtime = new CacheRuntime(policy, stats, LAYOUT, STEPS, ROWS, probe)) {
            return sample(runtime, policy == CachePolicy.none() ? probe : ActivationProbe.NONE);
        }
    }

    /** Profiles the loop, plans a mask for 60% of the block evaluations, and samples with it and with MagCache. */
    public static List<Result> run() {
        ForeignLoop loop = new ForeignLoop(7);
        RedundancyProfile profile = new RedundancyProfile(Map.of("name", "foreign-loop"), Map.of("name", "euler"),
                BLOCKS, STEPS);
        try (StreamingProfiler profiler = new StreamingProfiler(profile)) {
            loop.sample(CachePolicy.none(), new CacheStats(), profiler);
            profiler.endRun();
        }
        float[] reference = loop.sample(null, ActivationProbe.NONE);
        List<Result> results = new ArrayList<>();
        for (CachePolicy policy : List.of(CachePolicy.none(),
                new ProfileGuidedPolicy(MaskPlanner.forBudget(profile, LAYOUT, STEPS, 0.6)),
                Policies.create("magcache", Map.of("threshold", 0.1), profile))) {
            CacheStats stats = new CacheStats();
            float[] got = loop.sample(policy, stats, ActivationProbe.NONE);
            double max = 0;
            for (int i = 0; i < got.length; i++) {
                max = Math.max(max, Math.abs((double) got[i] - reference[i]));
            }
            results.add(new Result(policy.name(), stats.skippedFraction(), max));
        }
        return results;
    }

    public static void main(String[] args) {
        long start = System.nanoTime();
        for (Result r : run()) {
            System.out.printf(Locale.ROOT, "%-16s skipped %5.1f%%  max abs error %.3e%n", r.policy(),
                    100 * r.skippedFraction(), r.maxAbsError());
        }
        System.out.printf(Locale.ROOT, "foreign loop through ditcache's runtime: %.1f s%n",
                (System.nanoTime() - start) / 1e9);
    }
}
