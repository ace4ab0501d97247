package io.ditcache.model.toy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.model.CachedForward;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserInfo;
import io.ditcache.model.LatentSize;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sampler applies guidance as the model's {@link SamplingDefaults.Guidance} says, and guides against the
 * conditions' own negatives when they carry them. The toy model runs every forward; a wrapper around it only
 * declares another guidance kind and records what each forward was given.
 */
class SamplerGuidanceTest {
    static final int STEPS = 4;
    static ToyDenoiser toy;

    @BeforeAll
    static void build() {
        toy = new ToyDenoiser(ToyFamilyTest.CHANNELS, 8, ToyFamilyTest.LAYERS, ToyFamilyTest.TEXT, 4, 6,
                ToyDenoiser.randomWeights(ToyFamilyTest.CHANNELS, 8, ToyFamilyTest.LAYERS, ToyFamilyTest.TEXT, 11));
    }

    /** What one forward was given. */
    record Call(int rows, List<Branch> branches, Optional<Double> guidance, float[] hiddenStates) {
    }

    /** The toy declaring {@code kind}, recording every forward's batch. */
    static final class Declaring implements Denoiser {
        final Denoiser inner;
        final SamplingDefaults.Guidance kind;
        final List<Call> calls = new ArrayList<>();

        Declaring(Denoiser inner, SamplingDefaults.Guidance kind) {
            this.inner = inner;
            this.kind = kind;
        }

        @Override
        public SamplingDefaults samplingDefaults() {
            return new SamplingDefaults("DDIMScheduler", Map.of(), 10, 3.5, kind);
        }

        @Override
        public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe p) {
            TextEmbeddings t = (TextEmbeddings) batch;
            calls.add(new Call(batch.rows(), step.rows(), t.guidance().isPresent()
                    ? Optional.of(t.guidance().getAsDouble()) : Optional.empty(), Tensors.toFloats(t.hiddenStates())));
            return inner.forward(latents, timesteps, batch, step, p);
        }

        @Override
        public DenoiserInfo info() {
            return inner.info();
        }

        @Override
        public int layers() {
            return inner.layers();
        }

        @Override
        public Map<String, Tensor> stateDict() {
            return inner.stateDict();
        }

        /** As FLUX.1-dev: embeddings without the guidance scale are refused. */
        @Override
        public long[] latentShape(Conditioning c) {
            if (kind == SamplingDefaults.Guidance.EMBEDDED && c instanceof TextEmbeddings t
                    && t.guidance().isEmpty()) {
                throw new IllegalArgumentException("guidance scale missing");
            }
            return inner.latentShape(c);
        }

        @Override
        public Conditioning unconditional(Conditioning c) {
            return inner.unconditional(c);
        }

        @Override
        public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
            return inner.cached(policy, stats, steps, rows);
        }
    }

    static Condition prompt(long seed) {
        return ToyFamilyTest.prompt(seed, Optional.empty());
    }

    /** One prompt's embeddings of 3 tokens, all attended, drawn from {@code seed}. */
    static TextEmbeddings embeddings(long seed) {
        Tensor states = torch.randn(new long[] {1, 3, ToyFamilyTest.TEXT},
                new GeneratorOptional(torch.createCPUGenerator(seed)), new TensorOptions(ScalarType.Float));
        Tensor mask = Tensors.fromLongs(new long[] {1, 1, 1}, 1, 3);
        states.retainReference();
        mask.retainReference();
        return new TextEmbeddings(states, Optional.of(mask), Optional.empty(), Optional.empty());
    }

    static Samples sample(Denoiser model, List<Condition> conds, double guidance) {
        return new Sampler(model, Schedulers.create("ddim", Map.of()))
                .sample(new SamplingOptions(conds, STEPS, guidance), ActivationProbe.NONE);
    }

    @Test
    void embeddedGuidanceRunsOneBranchWithTheScaleInTheEmbeddings() {
        Declaring flux = new Declaring(toy, SamplingDefaults.Guidance.EMBEDDED);
        Samples s = sample(flux, List.of(prompt(1), prompt(2)), 3.5);
        assertEquals(STEPS, flux.calls.size(), "one forward per step: no second branch");
        for (Call c : flux.calls) {
            assertEquals(2, c.rows());
            assertEquals(List.of(Branch.COND, Branch.COND), c.branches());
            assertEquals(Optional.of(3.5), c.guidance(), "the scale reaches the model");
        }
        Declaring other = new Declaring(toy, SamplingDefaults.Guidance.EMBEDDED);
        sample(other, List.of(prompt(1), prompt(2)), 1.0);
        assertEquals(Optional.of(1.0), other.calls.get(0).guidance(), "a scale of 1 is passed too, not dropped");
        // the toy ignores the scale: one branch of it equals unguided classifier-free sampling bit for bit
        assertArrayEquals(sample(toy, List.of(prompt(1), prompt(2)), 1.0).values(), s.values());
    }

    @Test
    void embeddedGuidanceRefusesClassLabels() {
        Declaring flux = new Declaring(toy, SamplingDefaults.Guidance.EMBEDDED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sample(flux, List.of(new Condition(ClassLabels.of(1), 0)), 3.5));
        assertEquals("ToyTransformer2DModel takes the guidance scale as an input (embedded guidance), which needs "
                + "text embeddings, got ClassLabels", e.getMessage());
        assertTrue(flux.calls.isEmpty());
    }

    @Test
    void noGuidanceRunsOneBranchWhateverTheScale() {
        Declaring schnell = new Declaring(toy, SamplingDefaults.Guidance.NONE);
        Samples s = sample(schnell, List.of(prompt(1)), 4.0);
        assertEquals(STEPS, schnell.calls.size());
        for (Call c : schnell.calls) {
            assertEquals(List.of(Branch.COND), c.branches());
            assertEquals(Optional.empty(), c.guidance());
        }
        assertArrayEquals(sample(toy, List.of(prompt(1)), 1.0).values(), s.values());
    }

    @Test
    void classifierFreeGuidanceUsesTheConditionsNegatives() {
        TextEmbeddings negA = embeddings(40);
        TextEmbeddings negB = embeddings(41);
        Declaring cfg = new Declaring(toy, SamplingDefaults.Guidance.CLASSIFIER_FREE);
        List<Condition> withNeg = List.of(prompt(1).withNegative(negA), prompt(2).withNegative(negB));
        Samples guided = sample(cfg, withNeg, 3.0);
        assertEquals(STEPS, cfg.calls.size());
        Call first = cfg.calls.get(0);
        assertEquals(List.of(Branch.COND, Branch.COND, Branch.UNCOND, Branch.UNCOND), first.branches());
        int per = 3 * ToyFamilyTest.TEXT;
        float[] h = first.hiddenStates();
        assertArrayEquals(Tensors.toFloats(negA.hiddenStates()), Arrays.copyOfRange(h, 2 * per, 3 * per),
                "row 3 is the first condition's negative");
        assertArrayEquals(Tensors.toFloats(negB.hiddenStates()), Arrays.copyOfRange(h, 3 * per, 4 * per));
        Samples plain = sample(toy, List.of(prompt(1), prompt(2)), 3.0);
        assertFalse(Arrays.equals(plain.values(), guided.values()), "the negatives changed the samples");
        // a negative equal to the model's own unconditional row gives the model's guidance bit for bit
        Condition one = prompt(1);
        Condition same = one.withNegative(toy.unconditional(one.conditioning()));
        assertArrayEquals(sample(toy, List.of(one), 3.0).values(), sample(toy, List.of(same), 3.0).values());
        // without guidance negatives are not used
        assertArrayEquals(sample(toy, List.of(prompt(1)), 1.0).values(),
                sample(toy, List.of(prompt(1).withNegative(negA)), 1.0).values());
    }

    @Test
    void negativesForSomeConditionsOnlyAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sample(toy,
                List.of(prompt(1).withNegative(embeddings(40)), prompt(2), prompt(3)), 3.0));
        assertEquals("1 of 3 conditions of a guided batch carry a negative conditioning and the others (e.g. [1, 2]) "
                + "do not; give a negative for every condition or for none", e.getMessage());
    }

    @Test
    void aNegativeIsOneRowOfTheConditionsKind() {
        Condition c = prompt(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.withNegative(ClassLabels.of(3)));
        assertEquals("the negative conditioning is ClassLabels, expected TextEmbeddings like the condition's",
                e.getMessage());
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
                () -> new Condition(ClassLabels.of(1), 0).withNegative(ClassLabels.of(1, 2)));
        assertEquals("a condition's negative conditioning is one row, got 2 rows", rows.getMessage());
    }

    @Test
    void theSchedulerIsToldTheImageSequenceLength() {
        Scheduler ddim = Schedulers.create("ddim", Map.of());
        List<Long> heard = new ArrayList<>();
        Scheduler listening = new Scheduler() {
            @Override
            public String name() {
                return ddim.name();
            }

            @Override
            public void setTimesteps(int n) {
                throw new AssertionError("the sampler gives the image sequence length");
            }

            @Override
            public void setTimesteps(int n, long imageSequenceLength) {
                heard.add(imageSequenceLength);
                ddim.setTimesteps(n, imageSequenceLength);
            }

            @Override
            public double[] timesteps() {
                return ddim.timesteps();
            }

            @Override
            public double initNoiseSigma() {
                return ddim.initNoiseSigma();
            }

            @Override
            public Tensor scaleModelInput(Tensor sample, int i) {
                return ddim.scaleModelInput(sample, i);
            }

            @Override
            public Tensor step(Tensor out, int i, Tensor sample, Supplier<Tensor> noise) {
                return ddim.step(out, i, sample, noise);
            }

            @Override
            public Map<String, Object> describe() {
                return ddim.describe();
            }
        };
        Sampler sampler = new Sampler(toy, listening);
        sampler.sample(new SamplingOptions(List.of(prompt(1)), 2, 1.0), ActivationProbe.NONE);
        sampler.sample(new SamplingOptions(List.of(ToyFamilyTest.prompt(2, Optional.of(LatentSize.image(2, 10)))), 2,
                1.0), ActivationProbe.NONE);
        assertEquals(List.of(toy.imageTokens(new long[] {2, 4, 6}), 20L), heard);
        assertEquals(24L, heard.get(0), "4 x 6 latent positions");
    }

    @Test
    void theSampleShapeOfAModelWithEmbeddedGuidanceCarriesTheScale() throws Exception {
        Declaring flux = new Declaring(toy, SamplingDefaults.Guidance.EMBEDDED);
        TextEmbeddings e = embeddings(3);
        assertThrows(IllegalArgumentException.class, () -> flux.latentShape(e), "the model itself refuses");
        assertArrayEquals(new long[] {ToyFamilyTest.CHANNELS, 4, 6}, Sampler.latentShape(flux, e, 3.5));
        assertArrayEquals(new long[] {ToyFamilyTest.CHANNELS, 4, 6}, Sampler.latentShape(toy, e, 3.5));
        java.nio.file.Path f = java.nio.file.Files.createTempFile("prompts", ".safetensors");
        try {
            new io.ditcache.io.SafetensorsWriter().put("encoder_hidden_states", Tensors.toFloats(e.hiddenStates()),
                    1, 3, ToyFamilyTest.TEXT).write(f);
            try (io.ditcache.sample.PromptEmbeddings p = io.ditcache.sample.PromptEmbeddings.read(f)) {
                p.checkAgainst(flux); // with the model's default scale, as the sampler will give one
            }
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
