package io.ditcache.model.mochi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.cache.Streams;
import io.ditcache.internal.Tensors;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Conditioning;
import io.ditcache.model.LatentSize;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.PolicyContract;
import io.ditcache.sample.SamplingOptions;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** Mochi as a {@link io.ditcache.model.Denoiser}: conditioning, sites, reused parts and the cache contract. */
class MochiDenoiserTest {
    static final MochiModel MODEL = MochiTestModels.random(MochiTestModels.tiny(), 11);

    /** Two prompts (the second with 2 padded tokens), 2 x 8 x 8 latents, 6 steps, guidance 3. */
    @Test
    void everyPolicyKeepsTheCacheContract() {
        PolicyContract.check(MODEL, "flowmatch", MochiModel.SAMPLING.schedulerConfig(), new SamplingOptions(
                List.of(MochiTestModels.prompt(1, 0), MochiTestModels.prompt(2, 2)), 6, 3.0));
    }

    /**
     * A block given the parts it computed itself, one or several at a time, gives its own output: reused parts
     * enter where computed ones do, and a half-computed joint attention (one stream's queries) equals the whole,
     * with and without padded text.
     */
    @Test
    void reusedPartsEnterWhereComputedOnesDo() {
        MochiConfig c = MODEL.config();
        try (PointerScope scope = new PointerScope()) {
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(3));
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            Tensor x = torch.randn(new long[] {2, 32, c.innerDim()}, gen, f32);
            Tensor ctx = torch.randn(new long[] {2, 5, c.pooledProjectionDim()}, gen, f32);
            Tensor temb = torch.randn(new long[] {2, c.innerDim()}, gen, f32);
            Tensor freqs = torch.randn(new long[] {3, c.numHeads(), c.headDim() / 2}, gen, f32);
            MochiRope.Table rope = MochiRope.of(freqs, 2, 4, 4);
            Tensor full = torch.ones(new long[] {2, 5}, new TensorOptions(ScalarType.Bool));
            Tensor padded = full.clone();
            padded.narrow(1, 3, 2).select(0, 1).fill_(new org.bytedeco.pytorch.Scalar(0));
            for (Tensor mask : List.of(full, padded)) {
                for (int layer = 0; layer < c.numLayers(); layer++) {
                    MochiBlock block = MODEL.block(layer);
                    Step step = Step.conditional(0, 1, 0, 2);
                    Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
                    Streams out = block.forward(x, ctx, temb, mask, rope, step, ActivationProbe.NONE, Map.of(),
                            parts);
                    assertEquals(c.blockLayout().block(layer).parts(), parts.keySet(), "parts of block " + layer);
                    for (BlockPart p : parts.keySet()) {
                        Streams one = block.forward(x, ctx, temb, mask, rope, step, ActivationProbe.NONE,
                                Map.of(p, parts.get(p)), null);
                        assertClose(out, one, "block " + layer + " reusing " + p);
                    }
                    assertClose(out, block.forward(x, ctx, temb, mask, rope, step, ActivationProbe.NONE, parts,
                            null), "block " + layer + " reusing every part");
                    if (layer == c.numLayers() - 1) {
                        assertArrayEquals(Tensors.toFloats(ctx), Tensors.toFloats(out.context()), 0f,
                                "the last block's text stream is not updated");
                    }
                }
            }
        }
    }

    private static void assertClose(Streams want, Streams got, String what) {
        assertArrayEquals(Tensors.toFloats(want.image()), Tensors.toFloats(got.image()), 1e-5f, what + " video");
        assertArrayEquals(Tensors.toFloats(want.context()), Tensors.toFloats(got.context()), 1e-5f,
                what + " text");
    }

    /** Every site the class comment names is observed, with the stream's width and token count. */
    @Test
    void sitesAreObservedWithTheirStreamsShapes() {
        MochiConfig c = MODEL.config();
        List<Site> seen = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        ActivationProbe probe = new ActivationProbe() {
            @Override
            public boolean wants(Site site) {
                return true;
            }

            @Override
            public void observe(Step step, Site site, Tensor activation) {
                seen.add(site);
                shapes.add(Tensors.shape(activation));
            }
        };
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings text = (TextEmbeddings) MochiTestModels.prompt(4, 1).conditioning();
            Tensor x = torch.randn(1, 4, 2, 8, 8);
            MODEL.forward(x, torch.full(new long[] {1}, new org.bytedeco.pytorch.Scalar(500.0)), text,
                    Step.conditional(0, 1, 0, 1), probe);
        }
        for (int layer = 0; layer < c.numLayers(); layer++) {
            for (SiteKind k : List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT, SiteKind.MLP_OUT,
                    SiteKind.BLOCK_OUT, SiteKind.BLOCK_RESIDUAL)) {
                int i = seen.indexOf(Site.of(layer, k));
                assertTrue(i >= 0, k + " of block " + layer);
                assertArrayEquals(new long[] {1, 32, c.innerDim()}, shapes.get(i), k + " of block " + layer);
            }
            boolean last = layer == c.numLayers() - 1;
            for (SiteKind k : List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT, SiteKind.MLP_OUT,
                    SiteKind.BLOCK_OUT)) {
                int i = seen.indexOf(new Site(layer, k, TokenStream.TEXT));
                boolean expected = !last || k == SiteKind.K || k == SiteKind.V || k == SiteKind.ATTN_OUT;
                assertEquals(expected, i >= 0, "text " + k + " of block " + layer);
                if (i >= 0) {
                    long width = k == SiteKind.K || k == SiteKind.V || (last && k == SiteKind.ATTN_OUT)
                            ? c.innerDim() : c.pooledProjectionDim();
                    assertArrayEquals(new long[] {1, MochiTestModels.TOKENS, width}, shapes.get(i),
                            "text " + k + " of block " + layer);
                }
            }
        }
        int m = seen.indexOf(Site.of(0, SiteKind.MODULATED_INPUT));
        assertTrue(m >= 0, "block 0 modulated input");
        assertArrayEquals(new long[] {1, 32, c.innerDim()}, shapes.get(m));
    }

    @Test
    void conditioningShapesAndDefaults() {
        TextEmbeddings text = (TextEmbeddings) MochiTestModels.prompt(4, 0).conditioning();
        assertArrayEquals(new long[] {4, 2, 8, 8}, MODEL.latentShape(text));
        TextEmbeddings noSize = new TextEmbeddings(text.hiddenStates(), text.mask(), Optional.empty(),
                Optional.empty());
        assertArrayEquals(new long[] {4, 4, 60, 106}, MODEL.latentShape(noSize),
                "MochiPipeline's 19 frames of 480 x 848");
        assertArrayEquals(new long[] {4, 3, 12, 6}, MODEL.latentShape(text.at(new LatentSize(3, 12, 6))));
        assertEquals(3 * 6 * 3, MODEL.imageTokens(new long[] {4, 3, 12, 6}), "tokens after patching");
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings u = (TextEmbeddings) MODEL.unconditional(text);
            assertArrayEquals(Tensors.shape(text.hiddenStates()), Tensors.shape(u.hiddenStates()));
            assertEquals(0.0, u.hiddenStates().abs().sum().item_double());
            assertEquals(text.mask(), u.mask());
        }
    }

    @Test
    void conditioningTheModelCannotTakeIsNamed() {
        TextEmbeddings text = (TextEmbeddings) MochiTestModels.prompt(5, 0).conditioning();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MODEL.latentShape(text.at(new LatentSize(2, 7, 8))));
        assertTrue(e.getMessage().contains("multiples of patch_size 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MODEL.latentShape(ClassLabels.of(1)));
        assertEquals("MochiTransformer3DModel is conditioned on text embeddings, not ClassLabels", e.getMessage());
        try (PointerScope scope = new PointerScope()) {
            Conditioning narrow = TextEmbeddings.of(torch.zeros(1, 3, 15));
            e = assertThrows(IllegalArgumentException.class, () -> MODEL.latentShape(narrow));
            assertEquals("encoder_hidden_states has width 15, expected 16 (text_embed_dim of "
                    + "MochiTransformer3DModel)", e.getMessage());
            Conditioning pooled = new TextEmbeddings(text.hiddenStates(), Optional.empty(),
                    Optional.of(torch.zeros(1, 8)), Optional.empty());
            e = assertThrows(IllegalArgumentException.class, () -> MODEL.unconditional(pooled));
            assertTrue(e.getMessage().contains("takes no pooled_projections"), e.getMessage());
            Conditioning guided = new TextEmbeddings(text.hiddenStates(), Optional.empty(), Optional.empty(),
                    Optional.empty(), OptionalDouble.of(3.5));
            e = assertThrows(IllegalArgumentException.class, () -> MODEL.latentShape(guided));
            assertTrue(e.getMessage().contains("no embedded guidance"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> MODEL.forward(torch.zeros(1, 4, 8, 8),
                    torch.zeros(1), text, Step.conditional(0, 1, 0, 1), ActivationProbe.NONE));
            assertTrue(e.getMessage().startsWith("hidden_states has Float shape [1, 4, 8, 8], expected a float "
                    + "[N, 4 (in_channels), F, H, W]"), e.getMessage());
        }
    }

    /** An integer mask is the bool mask it spells (1 = attend). */
    @Test
    void integerMasksAreBoolMasks() {
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings text = (TextEmbeddings) MochiTestModels.prompt(6, 2).conditioning();
            Tensor ints = text.mask().get().to(ScalarType.Long);
            TextEmbeddings asInts = new TextEmbeddings(text.hiddenStates(), Optional.of(ints), Optional.empty(),
                    text.size());
            Tensor x = torch.randn(1, 4, 2, 8, 8);
            Tensor t = torch.full(new long[] {1}, new org.bytedeco.pytorch.Scalar(300.0));
            Step step = Step.conditional(0, 1, 0, 1);
            float[] a = Tensors.toFloats(MODEL.forward(x, t, text, step, ActivationProbe.NONE));
            float[] b = Tensors.toFloats(MODEL.forward(x, t, asInts, step, ActivationProbe.NONE));
            assertArrayEquals(a, b, 0f);
            TextEmbeddings all = new TextEmbeddings(text.hiddenStates(), Optional.empty(), Optional.empty(),
                    text.size());
            float[] c = Tensors.toFloats(MODEL.forward(x, t, all, step, ActivationProbe.NONE));
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - c[i]));
            }
            assertTrue(diff > 1e-4, "padding changes the output: " + diff);
        }
    }
}
