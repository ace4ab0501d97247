package io.ditcache.sample;

import io.ditcache.ActivationProbe;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Branch;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.model.CachedForward;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.sched.Scheduler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The denoising loop of diffusers' pipelines over any {@link Denoiser}, one {@link PointerScope} per step so native
 * memory stays flat. Guidance follows the model's {@link SamplingDefaults#kind()}: classifier-free guidance runs
 * the unconditional rows (the conditions' own {@link Condition#negative() negatives}, else the model's {@link
 * Denoiser#unconditional unconditional} rows) in one batched call ({@code [cond; uncond]}); embedded guidance
 * (FLUX.1-dev) runs one branch with the scale in the {@link TextEmbeddings}; a model without guidance runs one
 * branch.
 *
 * <p>Each sample's initial noise and scheduler noise come from its own generator seeded by its
 * {@link Condition}, so a sample does not depend on the batch it runs in.
 */
public final class Sampler {
    private static final Logger LOG = LoggerFactory.getLogger(Sampler.class);
    private final Denoiser model;
    private final Scheduler scheduler;

    public Sampler(Denoiser model, Scheduler scheduler) {
        this.model = Objects.requireNonNull(model, "model");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** Samples from seeded noise. */
    public Samples sample(SamplingOptions options, ActivationProbe probe) {
        return sample(options, null, probe);
    }

    /**
     * Samples.
     *
     * @param options      conditions, steps, guidance
     * @param initialNoise {@code [n, ...latent shape]} with n = 1 (shared) or one per condition; null to draw it
     *                     from each condition's seed
     * @param probe        observes every call; its {@link ActivationProbe#endRun()} is called at the end
     */
    public Samples sample(SamplingOptions options, Samples initialNoise, ActivationProbe probe) {
        return run(options, initialNoise, probe, null, null);
    }

    /**
     * Samples with a cache ({@link Denoiser#cached}): every block of every step is computed or reused as
     * {@code policy} decides per sample and branch; {@code stats} records what was applied. A policy that never
     * reuses gives bit for bit the samples of {@link #sample(SamplingOptions, Samples, ActivationProbe)}.
     *
     * @param initialNoise as in {@link #sample(SamplingOptions, Samples, ActivationProbe)}
     */
    public Samples sample(SamplingOptions options, Samples initialNoise, CachePolicy policy, CacheStats stats) {
        return run(options, initialNoise, ActivationProbe.NONE, Objects.requireNonNull(policy, "policy"),
                Objects.requireNonNull(stats, "stats"));
    }

    private Samples run(SamplingOptions options, Samples initialNoise, ActivationProbe probe, CachePolicy policy,
            CacheStats stats) {
        List<Condition> conds = options.conditions();
        int b = conds.size();
        SamplingDefaults.Guidance kind = model.samplingDefaults().kind();
        Conditioning cond = Conditioning.concat(conds.stream().map(Condition::conditioning).toList());
        if (kind == SamplingDefaults.Guidance.EMBEDDED) {
            cond = embedGuidance(cond, options.guidance());
        }
        // refuses what the model cannot take (a label it does not know, a size it cannot make) before any work
        long[] shape = model.latentShape(cond);
        boolean guided = guided(options);
        int n = options.steps();
        List<Branch> rows = new ArrayList<>(Collections.nCopies(b, Branch.COND));
        Conditioning batch = cond;
        if (guided) {
            rows.addAll(Collections.nCopies(b, Branch.UNCOND));
            batch = cond.concat(unconditional(conds, cond));
        }
        List<Generator> generators = new ArrayList<>();
        for (Condition c : conds) {
            generators.add(torch.createCPUGenerator(c.seed()));
        }
        // a resolution-dependent shift (FLUX's dynamic shifting) is computed from the image sequence length
        scheduler.setTimesteps(n, model.imageTokens(shape));
        double[] timesteps = scheduler.timesteps();
        Tensor latents;
        CachedForward cache = policy == null ? null : model.cached(policy, stats, n, rows);
        try (InferenceMode mode = new InferenceMode(); CachedForward closing = cache) {
            try (PointerScope scope = new PointerScope()) {
                Tensor noise = initialNoise == null ? noise(generators, shape) : broadcast(initialNoise, b, shape);
                latents = noise.mul(new Scalar(scheduler.initNoiseSigma()));
                latents.retainReference();
            }
            try {
                for (int i = 0; i < n; i++) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor next = step(options, latents, batch, rows, shape, generators, timesteps, i, probe,
                                cache);
                        next.retainReference();
                        latents.releaseReference();
                        latents = next;
                    }
                    LOG.debug("step {}/{} t={}", i + 1, n, timesteps[i]);
                }
                probe.endRun();
                return new Samples(Tensors.toFloats(latents), Tensors.shape(latents));
            } finally {
                latents.releaseReference();
            }
        }
    }

    /** One denoising step; every tensor it makes belongs to the caller's scope. */
    private Tensor step(SamplingOptions options, Tensor latents, Conditioning batch, List<Branch> rows, long[] shape,
            List<Generator> generators, double[] timesteps, int i, ActivationProbe probe, CachedForward cache) {
        int b = options.conditions().size();
        boolean guided = guided(options);
        Tensor x = guided ? torch.cat(new TensorVector(latents, latents), 0) : latents;
        x = scheduler.scaleModelInput(x, i);
        Tensor t = Tensors.fromFloats(new float[] {(float) timesteps[i]}, 1);
        Step call = new Step(i, options.steps(), timesteps[i], rows);
        Tensor eps = cache == null ? model.forward(x, t, batch, call, probe) : cache.forward(x, t, batch, call);
        if (guided) {
            Tensor cond = eps.narrow(0, 0, b);
            Tensor uncond = eps.narrow(0, b, b);
            eps = uncond.add(cond.sub(uncond).mul(new Scalar(options.guidance())));
        }
        return scheduler.step(eps.contiguous(), i, latents, () -> noise(generators, shape));
    }

    /**
     * The latent shape of one sample of {@code c} as the sampler runs it: with the guidance scale in the
     * embeddings for a model whose guidance is an input ({@link SamplingDefaults.Guidance#EMBEDDED}), which refuses
     * embeddings without one.
     *
     * @throws IllegalArgumentException as {@link Denoiser#latentShape}
     */
    public static long[] latentShape(Denoiser model, Conditioning c, double guidance) {
        if (model.samplingDefaults().kind() == SamplingDefaults.Guidance.EMBEDDED && c instanceof TextEmbeddings t
                && t.guidance().isEmpty()) {
            return model.latentShape(t.withGuidance(guidance));
        }
        return model.latentShape(c);
    }

    /** Whether a second, unconditional branch runs: classifier-free guidance with a scale above 1. */
    private boolean guided(SamplingOptions options) {
        return model.samplingDefaults().kind() == SamplingDefaults.Guidance.CLASSIFIER_FREE && options.guided();
    }

    /** The conditioning with the model's input guidance scale: text embeddings only. */
    private Conditioning embedGuidance(Conditioning cond, double scale) {
        if (!(cond instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(model.info().className() + " takes the guidance scale as an input "
                    + "(embedded guidance), which needs text embeddings, got " + cond.getClass().getSimpleName());
        }
        return text.withGuidance(scale);
    }

    /**
     * The unconditional rows of a guided batch: the conditions' own negatives when every one has one, the
     * model's unconditional rows when none has; a mix is refused.
     */
    private Conditioning unconditional(List<Condition> conds, Conditioning cond) {
        long with = conds.stream().filter(c -> c.negative().isPresent()).count();
        if (with == 0) {
            return model.unconditional(cond);
        }
        if (with < conds.size()) {
            List<Integer> without = new ArrayList<>();
            for (int i = 0; i < conds.size() && without.size() < 5; i++) {
                if (conds.get(i).negative().isEmpty()) {
                    without.add(i);
                }
            }
            throw new IllegalArgumentException(with + " of " + conds.size() + " conditions of a guided batch carry a "
                    + "negative conditioning and the others (e.g. " + without + ") do not; give a negative for every "
                    + "condition or for none");
        }
        Conditioning neg = Conditioning.concat(conds.stream().map(c -> c.negative().get()).toList());
        if (!neg.size().equals(cond.size())) {
            throw new IllegalArgumentException("the negative conditioning asks for latent size "
                    + neg.size().map(Object::toString).orElse("(the model's default)") + ", the conditions for "
                    + cond.size().map(Object::toString).orElse("(the model's default)"));
        }
        return neg;
    }

    private static Tensor noise(List<Generator> generators, long[] shape) {
        long[] one = new long[shape.length + 1];
        one[0] = 1;
        System.arraycopy(shape, 0, one, 1, shape.length);
        TensorVector parts = new TensorVector();
        for (Generator g : generators) {
            parts.push_back(torch.randn(one, new GeneratorOptional(g), new TensorOptions(ScalarType.Float)));
        }
        return torch.cat(parts, 0);
    }

    private static Tensor broadcast(Samples noise, int b, long[] shape) {
        long[] s = noise.shape();
        if (s.length != shape.length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), shape)
                || (s[0] != 1 && s[0] != b)) {
            StringBuilder want = new StringBuilder("[1 or " + b);
            for (long d : shape) {
                want.append(", ").append(d);
            }
            throw new IllegalArgumentException("initial latents have shape " + Arrays.toString(s) + ", expected "
                    + want + "]");
        }
        Tensor t = noise.tensor();
        long[] all = s.clone();
        all[0] = b;
        return s[0] == b ? t : t.expand(all).contiguous();
    }
}
