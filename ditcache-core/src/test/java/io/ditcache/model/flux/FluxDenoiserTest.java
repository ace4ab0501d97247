package io.ditcache.model.flux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.internal.Tensors;
import io.ditcache.model.LatentSize;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.PolicyContract;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** FLUX as a {@link io.ditcache.model.Denoiser}: packing, conditioning checks, defaults, and the cache contract. */
class FluxDenoiserTest {
    /** A tiny FLUX.1-dev-like model (guidance embedded), random weights. */
    static FluxModel tinyDev() {
        torch.manual_seed(7);
        return new FluxModel(new FluxConfig(1, 16, 16, 2, 2, 2, 16, 24, 8, true, List.of(4, 4, 8)));
    }

    private static TextEmbeddings prompt(long seed, double guidance) {
        torch.manual_seed(seed);
        Tensor hs = torch.randn(1, 6, 24);
        Tensor pooled = torch.randn(1, 8);
        hs.retainReference();
        pooled.retainReference();
        return new TextEmbeddings(hs, Optional.empty(), Optional.of(pooled), Optional.empty()).withGuidance(guidance);
    }

    @Test
    void cacheContractHolds() {
        FluxModel model = tinyDev();
        List<Condition> conds = List.of(new Condition(prompt(1, 3.5), 11), new Condition(prompt(2, 3.5), 12));
        // FLUX.1-dev has no classifier-free guidance: its guidance is embedded, so the options ask for none
        PolicyContract.check(model, "flowmatch", Map.of(), new SamplingOptions(conds, 7, 1.0));
    }

    @Test
    void samplingForwardIsDiffusersForwardOnPackedTokens() {
        FluxModel model = tinyDev();
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings text = prompt(3, 2.0).at(LatentSize.image(4, 6));
            assertArrayEquals(new long[] {4, 4, 6}, model.latentShape(text));
            assertEquals(6, model.imageTokens(model.latentShape(text)));
            torch.manual_seed(5);
            Tensor latents = torch.randn(1, 4, 4, 6);
            float[] unpacked = Tensors.toFloats(latents);
            Tensor t = Tensors.fromFloats(new float[] {750f}, 1);
            Tensor out = model.forward(latents, t, text, Step.conditional(0, 1, 750, 1), ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 4, 4, 6}, Tensors.shape(out));

            // the same call in diffusers' terms, packed and with ids built here
            Tensor tokens = Tensors.fromFloats(FluxProfileGoldenTest.pack(unpacked, 4, 4, 6), 1, 6, 16);
            float[] ids = new float[6 * 3];
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 3; c++) {
                    ids[(r * 3 + c) * 3 + 1] = r;
                    ids[(r * 3 + c) * 3 + 2] = c;
                }
            }
            Tensor packed = model.forward(tokens, text.hiddenStates(), text.pooled().get(),
                    Tensors.fromFloats(new float[] {0.75f}, 1), Tensors.fromFloats(ids, 6, 3),
                    torch.zeros(6, 3), Tensors.fromFloats(new float[] {2.0f}, 1), Step.conditional(0, 1, 0, 1),
                    ActivationProbe.NONE, false);
            float[] want = FluxProfileGoldenTest.unpack(Tensors.toFloats(packed), 4, 4, 6);
            assertArrayEquals(want, Tensors.toFloats(out), 0f);
        }
    }

    @Test
    void singleBlocksReportStreamsWhileSamplingAndTheWholeSequenceForDiffusers() {
        FluxModel model = tinyDev();
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings text = prompt(4, 3.5);
            Map<Site, long[]> seen = new LinkedHashMap<>();
            ActivationProbe probe = new ActivationProbe() {
                @Override
                public boolean wants(Site site) {
                    return true;
                }

                @Override
                public void observe(Step step, Site site, Tensor activation) {
                    seen.put(site, Tensors.shape(activation));
                }
            };
            model.forward(torch.randn(1, 4, 8, 8), Tensors.fromFloats(new float[] {500f}, 1), text,
                    Step.conditional(0, 1, 500, 1), probe);
            // 16 image tokens, 6 text tokens, width 32
            assertArrayEquals(new long[] {1, 16, 32}, seen.get(Site.of(2, SiteKind.K)));
            assertArrayEquals(new long[] {1, 6, 32}, seen.get(new Site(2, SiteKind.K, TokenStream.TEXT)));
            assertArrayEquals(new long[] {1, 16, 128}, seen.get(Site.of(3, SiteKind.MLP_OUT)));
            assertArrayEquals(new long[] {1, 16, 32}, seen.get(Site.of(3, SiteKind.BLOCK_RESIDUAL)));
            assertArrayEquals(new long[] {1, 6, 32}, seen.get(new Site(0, SiteKind.ATTN_OUT, TokenStream.TEXT)));
            assertArrayEquals(new long[] {1, 16, 32}, seen.get(Site.of(0, SiteKind.MODULATED_INPUT)));
            assertTrue(!seen.containsKey(Site.of(1, SiteKind.MODULATED_INPUT)));

            seen.clear();
            Tensor tokens = torch.randn(1, 16, 16);
            model.forward(tokens, text.hiddenStates(), text.pooled().get(), Tensors.fromFloats(new float[] {0.5f}, 1),
                    FluxLatents.imageIds(4, 4), torch.zeros(6, 3), Tensors.fromFloats(new float[] {3.5f}, 1),
                    Step.conditional(0, 1, 0, 1), probe, true);
            assertArrayEquals(new long[] {1, 22, 32}, seen.get(Site.of(2, SiteKind.K)));
            assertArrayEquals(new long[] {1, 22, 32}, seen.get(Site.of(3, SiteKind.ATTN_OUT)));
            assertTrue(!seen.containsKey(new Site(2, SiteKind.K, TokenStream.TEXT)));
            assertArrayEquals(new long[] {1, 16, 32}, seen.get(Site.of(2, SiteKind.BLOCK_OUT)));
            assertArrayEquals(new long[] {1, 6, 32}, seen.get(new Site(2, SiteKind.BLOCK_OUT, TokenStream.TEXT)));
        }
    }

    @Test
    void conditioningIsChecked() {
        FluxModel model = tinyDev();
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings ok = prompt(5, 3.5);
            assertArrayEquals(new long[] {4, 8, 8}, model.latentShape(ok));
            assertRefused(model, new TextEmbeddings(ok.hiddenStates(), Optional.empty(), Optional.empty(),
                    Optional.empty()).withGuidance(3.5), "pooled_projections", "missing", "8");
            assertRefused(model, new TextEmbeddings(torch.randn(1, 6, 20), Optional.empty(), ok.pooled(),
                    Optional.empty()).withGuidance(3.5), "encoder_hidden_states", "width 20", "joint_attention_dim 24");
            assertRefused(model, new TextEmbeddings(ok.hiddenStates(), Optional.empty(),
                    Optional.of(torch.randn(1, 5)), Optional.empty()).withGuidance(3.5), "pooled_projections",
                    "width 5", "pooled_projection_dim 8");
            assertRefused(model, new TextEmbeddings(ok.hiddenStates(), Optional.empty(), ok.pooled(),
                    Optional.empty()), "guidance_embeds", "withGuidance");
            assertRefused(model, ok.at(LatentSize.image(5, 8)), "5", "even");
            assertRefused(model, ok.at(new LatentSize(2, 8, 8)), "1 frame");
            FluxModel twoAxes = new FluxModel(new FluxConfig(1, 16, 16, 1, 1, 2, 16, 24, 8, true, List.of(8, 8)));
            assertRefused(twoAxes, ok, "axes_dims_rope [8, 8]", "3 entries");
            FluxModel odd = new FluxModel(new FluxConfig(1, 6, 6, 1, 1, 2, 16, 24, 8, true, List.of(4, 4, 8)));
            assertRefused(odd, ok, "in_channels 6", "multiple of 4");
            IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                    () -> model.latentShape(io.ditcache.model.ClassLabels.of(1)));
            assertTrue(labels.getMessage().contains("text embeddings"), labels.getMessage());
        }
    }

    private static void assertRefused(FluxModel model, TextEmbeddings c, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.latentShape(c));
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void unconditionalIsZerosOfTheSameShapes() {
        FluxModel model = tinyDev();
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings c = prompt(6, 3.5);
            TextEmbeddings u = (TextEmbeddings) model.unconditional(c);
            assertArrayEquals(Tensors.shape(c.hiddenStates()), Tensors.shape(u.hiddenStates()));
            assertEquals(0.0, u.hiddenStates().abs().sum().item_double());
            assertEquals(0.0, u.pooled().get().abs().sum().item_double());
            assertEquals(c.guidance(), u.guidance());
        }
    }

    @Test
    void samplingDefaultsAreFluxPipelines() {
        SamplingDefaults dev = tinyDev().samplingDefaults();
        assertEquals("FlowMatchEulerDiscreteScheduler", dev.scheduler());
        assertEquals(28, dev.steps());
        assertEquals(3.5, dev.guidance());
        assertEquals(SamplingDefaults.Guidance.EMBEDDED, dev.kind());
        assertEquals(true, dev.schedulerConfig().get("use_dynamic_shifting"));
        assertEquals(3.0, dev.schedulerConfig().get("shift"));
        assertEquals(1.15, dev.schedulerConfig().get("max_shift"));
        // the defaults build a scheduler whose schedule follows the image size
        io.ditcache.sched.Scheduler s = io.ditcache.sched.Schedulers.create("flowmatch", dev.schedulerConfig());
        s.setTimesteps(28, 4096);
        assertEquals(28, s.timesteps().length);

        SamplingDefaults schnell = new FluxModel(new FluxConfig(1, 16, 16, 1, 1, 2, 16, 24, 8, false,
                List.of(4, 4, 8))).samplingDefaults();
        assertEquals(4, schnell.steps());
        assertEquals(SamplingDefaults.Guidance.NONE, schnell.kind());
        assertEquals(false, schnell.schedulerConfig().get("use_dynamic_shifting"));
        List<String> names = new ArrayList<>(tinyDev().inputNames());
        assertEquals(List.of("hidden_states", "encoder_hidden_states", "pooled_projections", "timestep", "img_ids",
                "txt_ids", "guidance"), names);
    }
}
