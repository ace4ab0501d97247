package io.ditcache.model.pixart;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.RedundancyProfile;
import io.ditcache.CacheStats;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.CachedForward;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.LatentSize;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.model.layers.Weights;
import io.ditcache.policy.Policies;
import io.ditcache.policy.PolicyContract;
import io.ditcache.profile.ActivationCapture;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PixArt as a {@link io.ditcache.model.Denoiser}: text conditioning (width checked, mask, unconditional branch),
 * latent shapes, learned sigma dropped, the published sampling defaults, diffusers' forward on named inputs, and
 * the cache contract every family keeps ({@link PolicyContract}) on a tiny random PixArt.
 */
class PixArtDenoiserTest {
    static final int CAPTION = 12;

    /** A tiny PixArt with every weight drawn at its fan-in's scale from {@code seed}. */
    static PixArtModel tiny(long seed) {
        PixArtModel model = new PixArtModel(new PixArtConfig(8, 2, 4, 8, 3, 2, 8, 16, CAPTION, 1e-6, true, false,
                1, 1000));
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        try (NoGradGuard guard = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : Weights.stateDict(model).entrySet()) {
                long[] s = Tensors.shape(e.getValue());
                double scale = s.length >= 2 ? 1 / Math.sqrt(e.getValue().numel() / (double) s[0]) : 0.3;
                e.getValue().copy_(torch.randn(s, gen, new TensorOptions(ScalarType.Float)).mul(new Scalar(scale)));
            }
        }
        return model;
    }

    /** One prompt of 5 tokens, the last two masked out, seeded by {@code seed}. */
    static TextEmbeddings prompt(long seed, int width) {
        Tensor states = torch.randn(new long[] {1, 5, width}, new GeneratorOptional(torch.createCPUGenerator(seed)),
                new TensorOptions(ScalarType.Float));
        Tensor mask = Tensors.fromLongs(new long[] {1, 1, 1, 0, 0}, 1, 5);
        states.retainReference();
        mask.retainReference();
        return new TextEmbeddings(states, Optional.of(mask), Optional.empty(), Optional.empty());
    }

    @Test
    void everyPolicyKeepsTheCacheContract() {
        PixArtModel model = tiny(5);
        SamplingOptions options = new SamplingOptions(List.of(new Condition(prompt(1, CAPTION), 3),
                new Condition(prompt(2, CAPTION), 4)), 6, 3.0);
        PolicyContract.check(model, "dpm++", Map.of(), options);
    }

    @Test
    void theCachedForwardReusesEachPartItCaches() {
        PixArtModel model = tiny(6);
        TextEmbeddings text = prompt(3, CAPTION);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(new long[] {1, 4, 8, 8}, new GeneratorOptional(torch.createCPUGenerator(9)),
                    new TensorOptions(ScalarType.Float));
            Tensor t = Tensors.fromFloats(new float[] {500f}, 1);
            Tensor plain = model.forward(x, t, text, Step.conditional(0, 2, 500, 1), ActivationProbe.NONE);
            CacheStats stats = new CacheStats();
            try (CachedForward cached = model.cached(Policies.create("fora", Map.of("interval", 2)), stats, 2,
                    List.of(Branch.COND))) {
                Tensor first = cached.forward(x, t, text, Step.conditional(0, 2, 500, 1));
                assertArrayEquals(Tensors.toFloats(plain), Tensors.toFloats(first), 0f, "step 0 computes");
                // the same input again: reused attention, cross-attention and feed-forward give the same output
                Tensor second = cached.forward(x, t, text, Step.conditional(1, 2, 500, 1));
                assertArrayEquals(Tensors.toFloats(plain), Tensors.toFloats(second), 1e-6f);
            }
            assertTrue(stats.skippedFraction() > 0, "the second step reused parts");
            // at a new input the reused parts are the old input's: not what computing gives
            Tensor x2 = x.mul(new Scalar(0.5));
            Tensor plain2 = model.forward(x2, t, text, Step.conditional(1, 2, 500, 1), ActivationProbe.NONE);
            try (CachedForward cached = model.cached(Policies.create("fora", Map.of("interval", 2)),
                    new CacheStats(), 2, List.of(Branch.COND))) {
                cached.forward(x, t, text, Step.conditional(0, 2, 500, 1));
                Tensor reused = cached.forward(x2, t, text, Step.conditional(1, 2, 500, 1));
                assertTrue(maxDiff(plain2, reused) > 1e-3, "parts reused at step 1");
            }
        }
    }

    @Test
    void conditioningIsCheckedAndTheUnconditionalBranchIsZeroEmbeddings() {
        PixArtModel model = tiny(7);
        TextEmbeddings text = prompt(4, CAPTION);
        assertArrayEquals(new long[] {4, 8, 8}, model.latentShape(text));
        assertArrayEquals(new long[] {4, 6, 10}, model.latentShape(text.at(LatentSize.image(6, 10))));
        assertEquals(15, model.imageTokens(new long[] {4, 6, 10}));
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(text.at(LatentSize.image(5, 10))));
        assertTrue(odd.getMessage().contains("patch_size 2"), odd.getMessage());
        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(ClassLabels.of(3)));
        assertTrue(labels.getMessage().contains("text embeddings"), labels.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(prompt(5, 7)));
        assertTrue(width.getMessage().contains("encoder_hidden_states") && width.getMessage().contains("7")
                && width.getMessage().contains("caption_channels " + CAPTION), width.getMessage());

        TextEmbeddings uncond = assertInstanceOf(TextEmbeddings.class, model.unconditional(text));
        assertArrayEquals(Tensors.shape(text.hiddenStates()), Tensors.shape(uncond.hiddenStates()));
        for (float v : Tensors.toFloats(uncond.hiddenStates())) {
            assertEquals(0f, v);
        }
        assertArrayEquals(Tensors.toLongs(text.mask().get()), Tensors.toLongs(uncond.mask().get()), "same mask");
    }

    @Test
    void theDenoiserDropsLearnedSigmaAndHonoursTheMask() {
        PixArtModel model = tiny(8);
        TextEmbeddings text = prompt(6, CAPTION);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(new long[] {1, 4, 6, 10}, new GeneratorOptional(torch.createCPUGenerator(2)),
                    new TensorOptions(ScalarType.Float));
            Tensor t = Tensors.fromLongs(new long[] {321}, 1);
            Step step = Step.conditional(0, 1, 321, 1);
            Tensor raw = model.forward(x, t, text.hiddenStates(), text.mask().get(), step, ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 8, 6, 10}, Tensors.shape(raw));
            Tensor eps = model.forward(x, t, text, step, ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 4, 6, 10}, Tensors.shape(eps));
            assertArrayEquals(Tensors.toFloats(raw.narrow(1, 0, 4).contiguous()), Tensors.toFloats(eps), 0f);
            // what a masked token holds does not matter; an unmasked token's does
            Tensor other = text.hiddenStates().clone();
            other.narrow(1, 3, 2).fill_(new Scalar(7.0));
            Tensor same = model.forward(x, t, new TextEmbeddings(other, text.mask(), Optional.empty(),
                    Optional.empty()), step, ActivationProbe.NONE);
            assertArrayEquals(Tensors.toFloats(eps), Tensors.toFloats(same), 1e-5f);
            Tensor unmasked = model.forward(x, t, TextEmbeddings.of(other), step, ActivationProbe.NONE);
            assertTrue(maxDiff(eps, unmasked) > 1e-3, "without the mask the padding counts");
        }
    }

    @Test
    void everyBlockReportsItsSites() {
        PixArtModel model = tiny(9);
        TextEmbeddings text = prompt(7, CAPTION);
        try (PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.allOf(SiteKind.class))) {
            Tensor x = torch.randn(new long[] {1, 4, 8, 8}, new GeneratorOptional(torch.createCPUGenerator(3)),
                    new TensorOptions(ScalarType.Float));
            model.forward(x, Tensors.fromLongs(new long[] {10}, 1), text, Step.conditional(0, 1, 10, 1), capture);
            for (int i = 0; i < 3; i++) {
                for (String kind : new String[] {"k", "v", "a", "out"}) {
                    assertArrayEquals(new long[] {1, 16, 16}, Tensors.shape(capture.tensors().get("block." + i + "."
                            + kind)), "block " + i + " " + kind);
                }
            }
            long sites = capture.tensors().size();
            assertEquals(3 * 6 + 1, sites, "K, V, ATTN_OUT, MLP_OUT, BLOCK_OUT, BLOCK_RESIDUAL per block and block "
                    + "0's MODULATED_INPUT: " + capture.tensors().keySet());
        }
    }

    @Test
    void theSamplingDefaultsArePixArtXl2Published() {
        SamplingDefaults d = tiny(1).samplingDefaults();
        assertEquals("DPMSolverMultistepScheduler", d.scheduler());
        assertEquals(20, d.steps());
        assertEquals(4.5, d.guidance());
        assertEquals(SamplingDefaults.Guidance.CLASSIFIER_FREE, d.kind());
        assertEquals("dpmsolver++", d.schedulerConfig().get("algorithm_type"));
        assertEquals(2, d.schedulerConfig().get("solver_order"));
        assertEquals("linear", d.schedulerConfig().get("beta_schedule"));
        // the scheduler port takes the configuration as it is
        Schedulers.create(d.scheduler(), d.schedulerConfig()).setTimesteps(d.steps());
    }

    @Test
    void diffusersForwardOnNamedInputs(@TempDir Path dir) throws Exception {
        PixArtModel model = (PixArtModel) ModelLoader.load(PixArtFixtures.checkpoint(dir.resolve("ckpt")));
        assertEquals(List.of("hidden_states", "encoder_hidden_states", "timestep"), model.inputNames());
        try (SafetensorsFile g = SafetensorsFile.open(PixArtFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("hidden_states", g.load("input.hidden_states"));
            in.put("encoder_hidden_states", g.load("input.encoder_hidden_states"));
            in.put("timestep", g.load("input.timestep"));
            Path plain = dir.resolve("inputs.safetensors");
            SafetensorsWriter.write(plain, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(plain)) {
                Tensor out = model.forward(f, null, ActivationProbe.NONE);
                assertTrue(PixArtGoldenTest.maxAbsDiff(g.floats("output.sample"), Tensors.toFloats(out)) <= 1e-4);
            }
            in.put("encoder_attention_mask", g.load("extra.encoder_attention_mask"));
            Path masked = dir.resolve("masked.safetensors");
            SafetensorsWriter.write(masked, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(masked)) {
                Tensor out = model.forward(f, null, ActivationProbe.NONE);
                assertTrue(PixArtGoldenTest.maxAbsDiff(g.floats("extra.output_masked"), Tensors.toFloats(out))
                        <= 1e-4);
            }
            in.remove("encoder_attention_mask");
            in.put("encoder_hidden_states", torch.zeros(2, 8, 16));
            Path bad = dir.resolve("bad.safetensors");
            SafetensorsWriter.write(bad, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(bad)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains(
                        "'encoder_hidden_states' has shape [2, 8, 16]") && e.getMessage().contains(
                        "caption_channels 32"), e.getMessage());
            }
            in.put("encoder_hidden_states", g.load("input.encoder_hidden_states"));
            in.put("timestep", Tensors.fromLongs(new long[] {999, 1001}, 2));
            Path late = dir.resolve("late.safetensors");
            SafetensorsWriter.write(late, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(late)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("'timestep' holds 1001.0 at index 1"), e.getMessage());
            }
        }
    }

    @Test
    void theGenericProfilerProfilesEveryBlockAndBranch() {
        PixArtModel model = tiny(13);
        SamplingOptions options = new SamplingOptions(List.of(new Condition(prompt(1, CAPTION), 3),
                new Condition(prompt(2, CAPTION), 4)), 5, 3.0);
        RedundancyProfile p = Profiling.run(model, "tiny-pixart", Schedulers.create("dpm++", Map.of()), options,
                null);
        assertEquals(3, p.layers());
        assertEquals("PixArtTransformer2DModel", p.model().get("class_name"));
        for (SiteKind kind : List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT, SiteKind.MLP_OUT)) {
            for (Branch b : Branch.values()) {
                assertTrue(p.series().stream().anyMatch(s -> s.key().kind() == kind && s.key().branch() == b),
                        kind + " " + b);
            }
        }
        p.series().stream().filter(s -> s.key().kind() == SiteKind.K).forEach(s -> {
            for (int l = 0; l < 3; l++) {
                assertEquals(2, s.count(l, 3), s.key() + " one value per prompt at block " + l);
            }
        });
    }

    @Test
    void aSavedPixArtLoadsBackTheSame(@TempDir Path dir) throws Exception {
        for (PixArtModel made : List.of(tiny(12), PixArtSizeConditionsTest.tinyWithSizes())) {
            Path ckpt = dir.resolve("m" + made.config().innerDim());
            CheckpointWriter.save(made, ckpt, Map.of("format", "pt"));
            PixArtModel loaded = assertInstanceOf(PixArtModel.class, ModelLoader.load(ckpt));
            assertEquals(made.config(), loaded.config());
            assertEquals(made.info(), loaded.info());
            Map<String, Tensor> want = made.stateDict();
            Map<String, Tensor> got = loaded.stateDict();
            assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()));
            want.forEach((k, v) -> assertArrayEquals(Tensors.toFloats(v), Tensors.toFloats(got.get(k)), 0f, k));
        }
    }

    private static double maxDiff(Tensor a, Tensor b) {
        return PixArtGoldenTest.maxAbsDiff(Tensors.toFloats(a), Tensors.toFloats(b));
    }
}
