package io.ditcache.examples;

import static io.ditcache.BlockPart.FEED_FORWARD;
import static io.ditcache.BlockPart.SELF_ATTENTION;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import io.ditcache.cli.NativeEnvironment;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.Policies;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.profile.StreamingProfiler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * A diffusion transformer that is not ditcache's, cached through ditcache's public runtime: what another Java
 * inference stack does to profile its model and plug in cache policies.
 *
 * <p>The model is plain libtorch ops with seeded random weights: a {@code [4, 8, 8]} latent cut into 2x2 patches
 * (16 tokens of width 32), four blocks of linear attention and a GELU feed-forward, each with adaLN-style shift,
 * scale and gate (over a parameter-free RMS norm) from a timestep-and-class embedding, and a final modulated
 * projection back to patches. It samples two classes with classifier-free guidance (rows: two conditional, two
 * unconditional) by Euler steps of a flow-matching ODE written here (the model predicts the clean latents), not
 * with ditcache's schedulers: the runtime needs no more of a sampler than the step index, the step count, the
 * timestep and the branch of each row, and a foreign stack brings its own sampler.
 *
 * <p>What it does with ditcache, all through public API: it profiles itself (its own probe calls for K, V, the
 * attention and feed-forward outputs and each block's modulated input; the runtime adds block outputs and
 * residuals),
 * plans a profile-guided compute mask for a budget, samples uncached and cached with FORA, FBCache, TeaCache,
 * MagCache, TaylorSeer and the mask (the policies that learn from a profile learn from this one), and does the
 * same at the step level, the model called as one opaque denoiser per step ({@link CacheRuntime#step}) with a step
 * interval, MagCache ratios and TeaCache from a per-step profile of the model's output. The code that exists only
 * to use ditcache lies between {@code glue:begin} and {@code glue:end} markers; {@code ForeignStackTest} counts it.
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.ForeignStack OUT</pre>
 *
 * writes {@code OUT/profile.json} (the block-level profile), {@code OUT/step-profile.json} (the per-step one) and
 * {@code OUT/policies.json} (per policy: name, granularity, parameters, skipped fraction, max abs error of the
 * final latents against uncached sampling).
 */
public final class ForeignStack {
    static final int CHANNELS = 4;
    static final int SIZE = 8;
    static final int PATCH = 2;
    static final int GRID = SIZE / PATCH;
    static final int TOKENS = GRID * GRID;
    static final int PATCH_DIM = CHANNELS * PATCH * PATCH;
    static final int DIM = 32;
    static final int BLOCKS = 4;
    static final int CLASSES = 4;
    static final int STEPS = 24;
    static final double GUIDANCE = 3;
    /** The classes sampled; the unconditional rows take the extra "null" class {@value #CLASSES}. */
    static final int[] LABELS = {1, 3};
    /** The fraction of block evaluations the profile-guided mask computes. */
    static final double MASK_BUDGET = 0.6;

    private final Tensor patchIn;
    private final Tensor position;
    private final Tensor classEmbedding;
    private final Tensor finalModulation;
    private final Tensor patchOut;
    private final Tensor[] modulation = new Tensor[BLOCKS];
    private final Tensor[] wq = new Tensor[BLOCKS];
    private final Tensor[] wk = new Tensor[BLOCKS];
    private final Tensor[] wv = new Tensor[BLOCKS];
    private final Tensor[] wo = new Tensor[BLOCKS];
    private final Tensor[] w1 = new Tensor[BLOCKS];
    private final Tensor[] w2 = new Tensor[BLOCKS];
    private final long seed;

    /** What one policy did: its skipped fraction and how far its final latents are from uncached sampling. */
    public record PolicyFigures(String name, String granularity, Map<String, Object> parameters,
            double skippedFraction, double maxAbsError) {
        public PolicyFigures {
            if (!(skippedFraction >= 0 && skippedFraction <= 1)) {
                throw new IllegalArgumentException(name + ": skipped fraction " + skippedFraction
                        + ", expected a value in [0, 1]");
            }
        }
    }

    /**
     * The run's results: the profile it planned from, the mask, each policy's figures (block level first) and the
     * largest absolute value of the uncached final latents, the scale the errors compare with.
     */
    public record Figures(RedundancyProfile profile, ComputeMask mask, List<PolicyFigures> policies,
            double referenceMaxAbs) {
        public Figures {
            policies = List.copyOf(policies);
        }
    }

    /** The stack with weights drawn from {@code seed}. */
    ForeignStack(long seed) {
        this.seed = seed;
        Random random = new Random(seed);
        patchIn = weights(random, PATCH_DIM, DIM);
        position = gaussian(random, 0.5, TOKENS, DIM);
        classEmbedding = gaussian(random, 1, CLASSES + 1, DIM);
        for (int l = 0; l < BLOCKS; l++) {
            modulation[l] = gaussian(random, 0.5 / Math.sqrt(DIM), DIM, 6 * DIM);
            wq[l] = weights(random, DIM, DIM);
            wk[l] = weights(random, DIM, DIM);
            wv[l] = weights(random, DIM, DIM);
            wo[l] = weights(random, DIM, DIM);
            w1[l] = weights(random, DIM, 2 * DIM);
            w2[l] = weights(random, 2 * DIM, DIM);
        }
        finalModulation = gaussian(random, 0.5 / Math.sqrt(DIM), DIM, 2 * DIM);
        patchOut = weights(random, DIM, PATCH_DIM);
    }

    /** Gaussian {@code [in, out]} weights of variance {@code 1/in}. */
    private static Tensor weights(Random random, int in, int out) {
        return gaussian(random, 1 / Math.sqrt(in), in, out);
    }

    private static Tensor gaussian(Random random, double std, long... shape) {
        float[] v = new float[Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        Tensor t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
        t.data_ptr_float().put(v);
        t.retainReference(); // the weights outlive every sampling run's pointer scope
        return t;
    }

    private static Scalar scalar(double v) {
        return new Scalar(v);
    }

    /** {@code 1000 * sigma} at step {@code i}: sigma falls linearly from 1 (noise) to 0 (data). */
    static double timestep(int i) {
        return 1000.0 * (STEPS - i) / STEPS;
    }

    /**
     * The conditioning {@code [rows, DIM]} of every row at {@code timestep}: sinusoidal features of sigma plus the
     * row's class embedding, through SiLU. Rows: the labels, then as many unconditional rows.
     */
    Tensor conditioning(double timestep) {
        float[] f = new float[2 * LABELS.length * DIM];
        long[] classes = new long[2 * LABELS.length];
        for (int r = 0; r < classes.length; r++) {
            classes[r] = r < LABELS.length ? LABELS[r] : CLASSES;
            for (int j = 0; j < DIM / 2; j++) {
                // frequencies from 4 down to 0.04 per unit of sigma: an untrained model then varies smoothly
                // over the steps, as a trained one does
                double angle = timestep / 1000 * 4 * Math.exp(-Math.log(100) * j / (DIM / 2));
                f[r * DIM + j] = (float) Math.cos(angle);
                f[r * DIM + DIM / 2 + j] = (float) Math.sin(angle);
            }
        }
        Tensor t = torch.empty(new long[] {classes.length, DIM}, new TensorOptions(ScalarType.Float), null);
        t.data_ptr_float().put(f);
        Tensor ids = torch.empty(new long[] {classes.length}, new TensorOptions(ScalarType.Long), null);
        ids.data_ptr_long().put(classes);
        return torch.silu(t.add(classEmbedding.index_select(0, ids)));
    }

    /** The patch tokens {@code [rows, TOKENS, PATCH_DIM]} of latents {@code [rows, C, H, W]}. */
    private static Tensor patchify(Tensor x) {
        long rows = x.size(0);
        return x.reshape(rows, CHANNELS, GRID, PATCH, GRID, PATCH).permute(0, 2, 4, 1, 3, 5)
                .reshape(rows, TOKENS, PATCH_DIM);
    }

    private static Tensor unpatchify(Tensor tokens) {
        long rows = tokens.size(0);
        return tokens.reshape(rows, GRID, GRID, CHANNELS, PATCH, PATCH).permute(0, 3, 1, 4, 2, 5)
                .reshape(rows, CHANNELS, SIZE, SIZE);
    }

    /** Chunk {@code k} of width DIM of a modulation {@code [rows, 1, n * DIM]}. */
    private static Tensor chunk(Tensor mod, int k) {
        return mod.narrow(2, (long) k * DIM, DIM);
    }

    /** {@code norm(x) * (1 + scale) + shift}: adaLN with a parameter-free RMS norm over the channels. */
    private static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        Tensor norm = x.mul(x).mean(new long[] {2}, true, new ScalarTypeOptional()).add(scalar(1e-6)).rsqrt();
        return x.mul(norm).mul(scale.add(scalar(1))).add(shift);
    }

    /** Block {@code l}'s modulated input, the attention's input (TeaCache's signal at block 0). */
    static Tensor modulated(Tensor x, Tensor mod) {
        return modulate(x, chunk(mod, 0), chunk(mod, 1));
    }

    /** Linear attention over the tokens, feature map elu + 1, one head. */
    private Tensor attention(int l, Tensor m, Step step, ActivationProbe probe) {
        Tensor k = m.matmul(wk[l]);
        Tensor v = m.matmul(wv[l]);
        Tensor qf = torch.elu(m.matmul(wq[l])).add(scalar(1));
        Tensor kf = torch.elu(k).add(scalar(1));
        Tensor numerator = qf.matmul(kf.transpose(1, 2).matmul(v));
        Tensor denominator = qf.matmul(kf.sum(1).unsqueeze(2));
        Tensor a = numerator.div(denominator).matmul(wo[l]);
        // glue:begin  (the stack's own profiling sites)
        probe.observe(step, Site.of(l, SiteKind.K), k);
        probe.observe(step, Site.of(l, SiteKind.V), v);
        probe.observe(step, Site.of(l, SiteKind.ATTN_OUT), a);
        // glue:end
        return a;
    }

    private Tensor feedForward(int l, Tensor h, Tensor mod, Step step, ActivationProbe probe) {
        Tensor f = torch.gelu(modulate(h, chunk(mod, 3), chunk(mod, 4)).matmul(w1[l])).matmul(w2[l]);
        // glue:begin
        probe.observe(step, Site.of(l, SiteKind.MLP_OUT), f);
        // glue:end
        return f;
    }

    /**
     * Block {@code l} on tokens {@code x} with modulation {@code mod} ({@code [rows, 1, 6 * DIM]}: shift, scale and
     * gate of the attention, then of the feed-forward), taking the parts in {@code reused} as given.
     */
    BlockOutput block(int l, Tensor x, Tensor mod, Map<BlockPart, Tensor> reused, Step step,
            ActivationProbe probe) {
        Tensor m = modulated(x, mod);
        // glue:begin  (the modulated input for the profile, TeaCache fits on block 0's; reused parts are given)
        probe.observe(step, Site.of(l, SiteKind.MODULATED_INPUT), m);
        Tensor a = reused.containsKey(SELF_ATTENTION) ? reused.get(SELF_ATTENTION) : attention(l, m, step, probe);
        // glue:end
        Tensor h = x.add(chunk(mod, 2).mul(a));
        // glue:begin
        Tensor f = reused.containsKey(FEED_FORWARD) ? reused.get(FEED_FORWARD) : feedForward(l, h, mod, step, probe);
        // glue:end
        Tensor out = h.add(chunk(mod, 5).mul(f));
        // glue:begin
        return new BlockOutput(Streams.of(out), Map.of(SELF_ATTENTION, a, FEED_FORWARD, f));
        // glue:end
    }

    /**
     * The model: the clean latents {@code [rows, C, H, W]} it predicts from latents {@code x} under conditioning
     * {@code c} ({@link #conditioning}, the same rows). Blocks run through {@code runtime} when there is one.
     */
    Tensor forward(Tensor x, Tensor c, Step step, ActivationProbe probe, CacheRuntime runtime) {
        Tensor h = patchify(x).matmul(patchIn).add(position);
        for (int l = 0; l < BLOCKS; l++) {
            Tensor mod = c.matmul(modulation[l]).unsqueeze(1);
            int layer = l;
            // glue:begin  (each block through the runtime, which picks the rows that run it)
            h = runtime == null ? block(l, h, mod, Map.of(), step, probe).output().image()
                    : runtime.block(step, l, h, BlockCall.of((rows, in, reused) -> block(layer, in.image(),
                            rows.select(mod), reused, step, probe), (rows, in) -> modulated(in.image(),
                            rows.select(mod))));
            // glue:end
        }
        Tensor fm = c.matmul(finalModulation).unsqueeze(1);
        return unpatchify(modulate(h, chunk(fm, 0), chunk(fm, 1)).matmul(patchOut));
    }

    /** The initial noise {@code [samples, C, H, W]}, seeded. */
    private Tensor noise() {
        Random random = new Random(seed + 1);
        float[] v = new float[LABELS.length * CHANNELS * SIZE * SIZE];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        Tensor t = torch.empty(new long[] {LABELS.length, CHANNELS, SIZE, SIZE}, new TensorOptions(ScalarType.Float),
                null);
        t.data_ptr_float().put(v);
        return t;
    }

    /** How a sampling loop calls the model at one step: latents of every row in, predicted clean latents out. */
    @FunctionalInterface
    interface Denoiser {
        Tensor denoised(Tensor latents, Tensor conditioning, Step step);
    }

    /**
     * Euler steps of the flow-matching ODE from the noise (sigma 1) to the data (sigma 0), with classifier-free
     * guidance (both branches in one batch), calling {@code denoiser}; the final latents. The model predicts the
     * clean latents (x0), so that an untrained one still gives a bounded trajectory that settles at its last
     * prediction.
     */
    private float[] sample(Denoiser denoiser) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = noise();
            int n = LABELS.length;
            for (int i = 0; i < STEPS; i++) {
                Step step = new Step(i, STEPS, timestep(i), rows());
                Tensor d = denoiser.denoised(x.repeat(2, 1, 1, 1), conditioning(timestep(i)), step);
                Tensor uncond = d.narrow(0, n, n);
                Tensor guided = uncond.add(d.narrow(0, 0, n).sub(uncond).mul(scalar(GUIDANCE)));
                // the velocity of the straight path through the prediction, (x - x0) / sigma
                double sigma = timestep(i) / 1000;
                double next = timestep(i + 1) / 1000;
                x = x.add(x.sub(guided).mul(scalar((next - sigma) / sigma)));
            }
            float[] out = new float[Math.toIntExact(x.numel())];
            x.contiguous().data_ptr_float().get(out);
            return out;
        }
    }

    /** The branch of each batch row: the conditional samples, then the unconditional ones. */
    static List<Branch> rows() {
        List<Branch> rows = new ArrayList<>();
        for (int r = 0; r < 2 * LABELS.length; r++) {
            rows.add(r < LABELS.length ? Branch.COND : Branch.UNCOND);
        }
        return rows;
    }

    /** Uncached sampling, no runtime: the reference. */
    float[] sampleUncached() {
        return sample((x, c, step) -> forward(x, c, step, ActivationProbe.NONE, null));
    }

    // glue:begin  (what a stack writes to profile itself and to sample cached, block by block and per step)
    /** The stack's blocks as a cache sees them: self-attention and feed-forward, equal cost. */
    static final BlockLayout LAYOUT = BlockLayout.plain(BLOCKS);

    /**
     * Cached sampling block by block through the runtime; {@code probe} sees every block's output and residual
     * (the runtime's sites) and, with no cache, where every row runs every block, the stack's own sites too.
     */
    float[] sampleBlocks(CachePolicy policy, CacheStats stats, ActivationProbe probe) {
        try (CacheRuntime runtime = new CacheRuntime(policy, stats, LAYOUT, STEPS, rows(), probe)) {
            // the stack's own sites see whole batches only where every row computes: profile with no cache
            ActivationProbe sites = policy == CachePolicy.none() ? probe : ActivationProbe.NONE;
            return sample((x, c, step) -> forward(x, c, step, sites, runtime));
        }
    }

    /**
     * Cached sampling with the model as one opaque call per step ({@link BlockLayout#wholeModel()}): the step's
     * output reused as a whole; TeaCache's signal is the conditioning, the only timestep-dependent input.
     */
    float[] sampleSteps(CachePolicy policy, CacheStats stats, ActivationProbe probe) {
        try (CacheRuntime runtime = new CacheRuntime(policy, stats, BlockLayout.wholeModel(), STEPS, rows(), probe)) {
            return sample((x, c, step) -> {
                probe.observe(step, Site.of(0, SiteKind.MODULATED_INPUT), c);
                return runtime.step(step, x, (rows, in) -> forward(in, rows.select(c), step, ActivationProbe.NONE,
                        null), (rows, in) -> rows.select(c));
            });
        }
    }

    /** A profile of {@code layers} blocks of this stack, from one uncached run of {@code sampler}. */
    static RedundancyProfile profile(int layers, Sampler sampler) {
        RedundancyProfile profile = new RedundancyProfile(Map.of("name", "foreign-stack"),
                Map.<String, Object>of("name", "euler-flow", "guidance", GUIDANCE), layers, STEPS);
        try (StreamingProfiler profiler = new StreamingProfiler(profile)) {
            sampler.sample(CachePolicy.none(), new CacheStats(), profiler);
            profiler.endRun();
        }
        return profile;
    }

    /** The block-level policies, those that learn from a profile learning from {@code profile}. */
    static List<CachePolicy> blockPolicies(RedundancyProfile profile, ComputeMask mask) {
        return List.of(Policies.create("fora", Map.of("interval", 2)),
                Policies.create("fbcache", Map.of("threshold", 0.2)),
                Policies.create("teacache", Map.of("threshold", 0.2, "degree", 2), profile),
                Policies.create("magcache", Map.of("threshold", 0.04), profile),
                Policies.create("taylorseer", Map.of("interval", 2, "warmupSteps", 3, "order", 2)),
                new ProfileGuidedPolicy(mask));
    }

    /** The step-level policies, learning from the per-step profile {@code steps}. */
    static List<CachePolicy> stepPolicies(RedundancyProfile steps) {
        return List.of(Policies.create("fora", Map.of("interval", 2)),
                Policies.create("teacache", Map.of("threshold", 0.1, "degree", 2), steps),
                Policies.create("magcache", Map.of("threshold", 0.02), steps));
    }
    // glue:end

    /** A cached sampling run of one granularity. */
    @FunctionalInterface
    interface Sampler {
        float[] sample(CachePolicy policy, CacheStats stats, ActivationProbe probe);
    }

    /** Profiles the stack, plans the mask, samples with every policy; writes the files into {@code out}. */
    public static Figures run(Path out) throws IOException {
        ForeignStack stack = new ForeignStack(7);
        // glue:begin  (profile both granularities, plan the mask)
        RedundancyProfile profile = profile(BLOCKS, stack::sampleBlocks);
        RedundancyProfile stepProfile = profile(1, stack::sampleSteps);
        ComputeMask mask = MaskPlanner.forBudget(profile, LAYOUT, STEPS, MASK_BUDGET);
        // glue:end
        float[] reference = stack.sampleUncached();
        List<PolicyFigures> figures = new ArrayList<>();
        for (CachePolicy p : blockPolicies(profile, mask)) {
            figures.add(figures(p, "block", stack::sampleBlocks, reference));
        }
        for (CachePolicy p : stepPolicies(stepProfile)) {
            figures.add(figures(p, "step", stack::sampleSteps, reference));
        }
        Files.createDirectories(out);
        profile.writeJson(out.resolve("profile.json"));
        stepProfile.writeJson(out.resolve("step-profile.json"));
        double scale = maxAbsDifference(reference, new float[reference.length]);
        writePolicies(figures, scale, out.resolve("policies.json"));
        return new Figures(profile, mask, figures, scale);
    }

    private static PolicyFigures figures(CachePolicy policy, String granularity, Sampler sampler,
            float[] reference) {
        // glue:begin  (what the cache did)
        CacheStats stats = new CacheStats();
        float[] got = sampler.sample(policy, stats, ActivationProbe.NONE);
        return new PolicyFigures(policy.name(), granularity, policy.describe(), stats.skippedFraction(),
                maxAbsDifference(got, reference));
        // glue:end
    }

    static double maxAbsDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    private static void writePolicies(List<PolicyFigures> figures, double scale, Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (PolicyFigures f : figures) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", f.name());
            row.put("granularity", f.granularity());
            row.put("skipped_fraction", f.skippedFraction());
            row.put("max_abs_error", f.maxAbsError());
            row.put("parameters", f.parameters());
            rows.add(row);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("steps", STEPS);
        doc.put("blocks", BLOCKS);
        doc.put("rows", rows().size());
        doc.put("reference_max_abs", scale);
        doc.put("policies", rows);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("ForeignStack: expected one argument, the output directory OUT");
            System.exit(2);
        }
        // libtorch's OpenMP threads spin without OMP_WAIT_POLICY=PASSIVE (about 5x slower here): start again with it
        NativeEnvironment.endWithLauncher();
        int relaunched = NativeEnvironment.relaunchIfNeeded(ForeignStack.class, args);
        if (relaunched >= 0) {
            System.exit(relaunched);
        }
        long start = System.nanoTime();
        Figures figures = run(Path.of(args[0]));
        System.out.printf(Locale.ROOT, "%-16s %-6s %8s %14s%n", "policy", "level", "skipped", "max abs error");
        for (PolicyFigures f : figures.policies()) {
            System.out.printf(Locale.ROOT, "%-16s %-6s %7.1f%% %14.3e%n", f.name(), f.granularity(),
                    100 * f.skippedFraction(), f.maxAbsError());
        }
        System.out.printf(Locale.ROOT, "largest |latent| of uncached sampling: %.3f%n", figures.referenceMaxAbs());
        System.out.printf(Locale.ROOT, "wrote %s/{profile,step-profile,policies}.json in %.1f s%n", args[0],
                (System.nanoTime() - start) / 1e9);
    }
}
