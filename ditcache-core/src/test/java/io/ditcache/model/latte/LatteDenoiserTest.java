package io.ditcache.model.latte;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.CacheStats;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.CachedForward;
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
 * Latte as a {@link io.ditcache.model.Denoiser}: text conditioning, latent shapes [C, F, H, W], dropped learned
 * sigma, the sites of every spatial and temporal block, the cached forward's part reuse, the sampling defaults,
 * diffusers' forward on named inputs with clear errors, and the cache contract every family keeps
 * ({@link PolicyContract}) on a tiny random Latte.
 */
class LatteDenoiserTest {
    static final int CAPTION = 6;
    static final int FRAMES = 3;

    /** A tiny Latte (2 layers = 4 blocks, d 8, 4x4 latents, 3 frames) with weights drawn from {@code seed}. */
    static LatteModel tiny(long seed) {
        LatteModel model = new LatteModel(new LatteConfig(4, 2, 4, 8, 2, 2, 4, 8, CAPTION, 1e-6, true,
                "gelu-approximate", FRAMES, 1000));
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

    static Tensor noise(long seed, long... shape) {
        return torch.randn(shape, new GeneratorOptional(torch.createCPUGenerator(seed)),
                new TensorOptions(ScalarType.Float));
    }

    static double maxDiff(Tensor a, Tensor b) {
        return LatteFixtures.maxAbsDiff(Tensors.toFloats(a.contiguous()), Tensors.toFloats(b.contiguous()));
    }

    @Test
    void everyPolicyKeepsTheCacheContract() {
        LatteModel model = tiny(5);
        SamplingOptions options = new SamplingOptions(List.of(new Condition(prompt(1, CAPTION), 3),
                new Condition(prompt(2, CAPTION), 4)), 6, 3.0);
        PolicyContract.check(model, "ddim", Map.of(), options);
    }

    @Test
    void theCachedForwardReusesEachPartItCaches() {
        LatteModel model = tiny(6);
        TextEmbeddings text = prompt(3, CAPTION);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = noise(9, 1, 4, FRAMES, 4, 4);
            Tensor t = Tensors.fromFloats(new float[] {500f}, 1);
            Tensor plain = model.forward(x, t, text, Step.conditional(0, 2, 500, 1), ActivationProbe.NONE);
            CacheStats stats = new CacheStats();
            try (CachedForward cached = model.cached(Policies.create("fora", Map.of("interval", 2)), stats, 2,
                    List.of(Branch.COND))) {
                Tensor first = cached.forward(x, t, text, Step.conditional(0, 2, 500, 1));
                assertArrayEquals(Tensors.toFloats(plain), Tensors.toFloats(first), 0f, "step 0 computes");
                Tensor second = cached.forward(x, t, text, Step.conditional(1, 2, 500, 1));
                assertArrayEquals(Tensors.toFloats(plain), Tensors.toFloats(second), 1e-6f, "same input, same parts");
            }
            assertTrue(stats.skippedFraction() > 0, "the second step reused parts");
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
    void conditioningAndLatentShapesAreChecked() {
        LatteModel model = tiny(7);
        TextEmbeddings text = prompt(4, CAPTION);
        assertArrayEquals(new long[] {4, FRAMES, 4, 4}, model.latentShape(text), "[C, video_length, H, W]");
        assertArrayEquals(new long[] {4, FRAMES, 6, 10}, model.latentShape(text.at(new LatentSize(FRAMES, 6, 10))));
        assertArrayEquals(new long[] {4, 1, 6, 10}, model.latentShape(text.at(LatentSize.image(6, 10))));
        assertEquals(FRAMES * 15, model.imageTokens(new long[] {4, FRAMES, 6, 10}));
        IllegalArgumentException frames = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(text.at(new LatentSize(2, 4, 4))));
        assertTrue(frames.getMessage().contains("video_length " + FRAMES) && frames.getMessage().contains("2"),
                frames.getMessage());
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(text.at(new LatentSize(FRAMES, 5, 4))));
        assertTrue(odd.getMessage().contains("patch_size 2"), odd.getMessage());
        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(ClassLabels.of(3)));
        assertTrue(labels.getMessage().contains("text embeddings"), labels.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> model.latentShape(prompt(5, 7)));
        assertTrue(width.getMessage().contains("caption_channels " + CAPTION), width.getMessage());
        TextEmbeddings uncond = assertInstanceOf(TextEmbeddings.class, model.unconditional(text));
        for (float v : Tensors.toFloats(uncond.hiddenStates())) {
            assertEquals(0f, v);
        }
    }

    @Test
    void theDenoiserDropsLearnedSigmaAndHonoursTheMask() {
        LatteModel model = tiny(8);
        TextEmbeddings text = prompt(6, CAPTION);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = noise(2, 1, 4, FRAMES, 6, 4);
            Tensor t = Tensors.fromLongs(new long[] {321}, 1);
            Step step = Step.conditional(0, 1, 321, 1);
            Tensor raw = model.forward(x, t, text.hiddenStates(), text.mask().get(), step, ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 8, FRAMES, 6, 4}, Tensors.shape(raw));
            Tensor eps = model.forward(x, t, text, step, ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 4, FRAMES, 6, 4}, Tensors.shape(eps));
            assertArrayEquals(Tensors.toFloats(raw.narrow(1, 0, 4).contiguous()), Tensors.toFloats(eps), 0f);
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
    void everySpatialAndTemporalBlockReportsItsSitesOneRowPerSample() {
        LatteModel model = tiny(9);
        TextEmbeddings text = prompt(7, CAPTION);
        try (PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.allOf(SiteKind.class))) {
            model.forward(noise(3, 1, 4, FRAMES, 4, 4), Tensors.fromLongs(new long[] {10}, 1), text,
                    Step.conditional(0, 1, 10, 1), capture);
            for (int i = 0; i < 4; i++) {
                for (String kind : new String[] {"k", "v", "a", "out"}) {
                    assertArrayEquals(new long[] {1, FRAMES * 4, 8}, Tensors.shape(capture.tensors().get("block." + i
                            + "." + kind)), "block " + i + " " + kind);
                }
            }
            assertEquals(4 * 6 + 1, capture.tensors().size(), "K, V, ATTN_OUT, MLP_OUT, BLOCK_OUT, BLOCK_RESIDUAL "
                    + "per block and block 0's MODULATED_INPUT: " + capture.tensors().keySet());
        }
    }

    @Test
    void theSamplingDefaultsAreLattePipelines() {
        SamplingDefaults d = tiny(1).samplingDefaults();
        assertEquals("DDIMScheduler", d.scheduler());
        assertEquals(50, d.steps());
        assertEquals(7.5, d.guidance());
        assertEquals(SamplingDefaults.Guidance.CLASSIFIER_FREE, d.kind());
        assertEquals("linear", d.schedulerConfig().get("beta_schedule"));
        assertEquals("epsilon", d.schedulerConfig().get("prediction_type"));
        assertEquals(io.ditcache.model.PredictionType.EPSILON, tiny(1).info().prediction());
        Schedulers.create(d.scheduler(), d.schedulerConfig()).setTimesteps(d.steps());
    }

    @Test
    void diffusersForwardOnNamedInputs(@TempDir Path dir) throws Exception {
        LatteModel model = (LatteModel) ModelLoader.load(LatteFixtures.checkpoint(dir.resolve("ckpt")));
        assertEquals(List.of("hidden_states", "encoder_hidden_states", "timestep"), model.inputNames());
        assertEquals(List.of("encoder_attention_mask"), model.optionalInputNames());
        try (SafetensorsFile g = SafetensorsFile.open(LatteFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("hidden_states", g.load("input.hidden_states"));
            in.put("encoder_hidden_states", g.load("input.encoder_hidden_states"));
            in.put("timestep", g.load("input.timestep"));
            Path plain = dir.resolve("inputs.safetensors");
            SafetensorsWriter.write(plain, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(plain)) {
                Tensor out = model.forward(f, null, ActivationProbe.NONE);
                assertTrue(LatteFixtures.maxAbsDiff(g.floats("output.sample"), Tensors.toFloats(out)) <= 1e-4);
            }
            in.put("encoder_hidden_states", torch.zeros(2, 8, 16));
            Path bad = dir.resolve("bad.safetensors");
            SafetensorsWriter.write(bad, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(bad)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains(
                        "encoder_hidden_states has shape [2, 8, 16]") && e.getMessage().contains(
                        "caption_channels 8"), e.getMessage());
            }
            in.put("encoder_hidden_states", g.load("input.encoder_hidden_states"));
            in.put("hidden_states", g.load("input.hidden_states").narrow(2, 0, 4).contiguous());
            Path frames = dir.resolve("frames.safetensors");
            SafetensorsWriter.write(frames, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(frames)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("frames.safetensors") && e.getMessage().contains("got 4"),
                        e.getMessage());
            }
            in.remove("timestep");
            Path missing = dir.resolve("missing.safetensors");
            SafetensorsWriter.write(missing, in, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(missing)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("no tensor 'timestep'"), e.getMessage());
            }
        }
    }
}
