package io.ditcache.model.sd3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Step;
import io.ditcache.cache.Streams;
import io.ditcache.internal.Tensors;
import io.ditcache.model.Conditioning;
import io.ditcache.model.LatentSize;
import io.ditcache.model.PredictionType;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.PolicyContract;
import io.ditcache.sample.SamplingOptions;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** SD3 as a {@link io.ditcache.model.Denoiser}: conditioning, defaults, and the cache contract. */
class SD3DenoiserTest {
    static final SD3Model SD3 = SD3TestModels.random(SD3TestModels.tiny(false, List.of()), 7);
    static final SD3Model SD35 = SD3TestModels.random(SD3TestModels.tiny(true, List.of(0, 2)), 8);

    static SamplingOptions options(int steps) {
        return new SamplingOptions(List.of(SD3TestModels.prompt(1), SD3TestModels.prompt(2)), steps, 3.0);
    }

    @Test
    void everyPolicyKeepsTheCacheContractOnSD3() {
        PolicyContract.check(SD3, "flowmatch", Map.of("shift", 3.0), options(6));
    }

    @Test
    void everyPolicyKeepsTheCacheContractOnSD35() {
        PolicyContract.check(SD35, "flowmatch", Map.of("shift", 3.0), options(7));
    }

    /**
     * A block given the parts it computed itself, one or several at a time, gives its own output: reused parts
     * enter where computed ones do, and a half-computed joint attention (one stream's queries) equals the whole.
     */
    @Test
    void reusedPartsEnterWhereComputedOnesDo() {
        for (SD3Model model : List.of(SD3, SD35)) {
            SD3Config c = model.config();
            try (PointerScope scope = new PointerScope()) {
                GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(3));
                long s = (long) c.gridSize() * c.gridSize();
                Tensor x = torch.randn(new long[] {2, s, c.innerDim()}, gen, new TensorOptions(ScalarType.Float));
                Tensor ctx = torch.randn(new long[] {2, 5, c.innerDim()}, gen, new TensorOptions(ScalarType.Float));
                Tensor temb = torch.randn(new long[] {2, c.innerDim()}, gen, new TensorOptions(ScalarType.Float));
                for (int layer = 0; layer < c.numLayers(); layer++) {
                    JointBlock block = model.block(layer);
                    Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
                    Streams full = block.forward(x, ctx, temb, Step.conditional(0, 1, 0, 2), ActivationProbe.NONE,
                            Map.of(), parts);
                    assertEquals(c.blockLayout().block(layer).parts(), parts.keySet(), "parts of block " + layer);
                    for (BlockPart p : parts.keySet()) {
                        Streams one = block.forward(x, ctx, temb, Step.conditional(0, 1, 0, 2),
                                ActivationProbe.NONE, Map.of(p, parts.get(p)), null);
                        assertClose(full, one, "block " + layer + " reusing " + p);
                    }
                    Streams all = block.forward(x, ctx, temb, Step.conditional(0, 1, 0, 2), ActivationProbe.NONE,
                            parts, null);
                    assertClose(full, all, "block " + layer + " reusing every part");
                    assertEquals(layer == c.numLayers() - 1, full.context() == null, "context output of " + layer);
                }
            }
        }
    }

    private static void assertClose(Streams want, Streams got, String what) {
        assertArrayEquals(Tensors.toFloats(want.image()), Tensors.toFloats(got.image()), 1e-5f, what + " image");
        if (want.context() != null) {
            assertArrayEquals(Tensors.toFloats(want.context()), Tensors.toFloats(got.context()), 1e-5f,
                    what + " context");
        }
    }

    @Test
    void conditioningShapesAndDefaults() {
        TextEmbeddings text = (TextEmbeddings) SD3TestModels.prompt(4).conditioning();
        assertArrayEquals(new long[] {4, 8, 8}, SD3.latentShape(text));
        assertArrayEquals(new long[] {4, 12, 4}, SD3.latentShape(text.at(LatentSize.image(12, 4))));
        assertEquals(36, SD3.imageTokens(new long[] {4, 12, 12}), "tokens after patching");
        assertEquals(PredictionType.FLOW, SD3.info().prediction());
        SamplingDefaults d = SD3.samplingDefaults();
        assertEquals("FlowMatchEulerDiscreteScheduler", d.scheduler());
        assertEquals(3.0, d.schedulerConfig().get("shift"));
        assertEquals(28, d.steps());
        assertEquals(7.0, d.guidance());
        assertEquals(SamplingDefaults.Guidance.CLASSIFIER_FREE, d.kind());
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings u = (TextEmbeddings) SD3.unconditional(text);
            assertArrayEquals(Tensors.shape(text.hiddenStates()), Tensors.shape(u.hiddenStates()));
            assertEquals(0.0, u.hiddenStates().abs().sum().item_double());
            assertArrayEquals(Tensors.shape(text.pooled().get()), Tensors.shape(u.pooled().get()));
            assertEquals(0.0, u.pooled().get().abs().sum().item_double());
        }
    }

    @Test
    void conditioningTheModelCannotTakeIsNamed() {
        TextEmbeddings text = (TextEmbeddings) SD3TestModels.prompt(5).conditioning();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SD3.latentShape(text.at(LatentSize.image(14, 8))));
        assertTrue(e.getMessage().contains("at most 12 (pos_embed_max_size 6 patches)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SD3.latentShape(text.at(LatentSize.image(7, 8))));
        assertTrue(e.getMessage().contains("multiples of patch_size 2"), e.getMessage());
        try (PointerScope scope = new PointerScope()) {
            Conditioning noPooled = new TextEmbeddings(text.hiddenStates(), Optional.empty(), Optional.empty(),
                    Optional.empty());
            e = assertThrows(IllegalArgumentException.class, () -> SD3.latentShape(noPooled));
            assertEquals("pooled_projections is missing, expected [rows, 8] (pooled_projection_dim of "
                    + "SD3Transformer2DModel)", e.getMessage());
            Conditioning wide = new TextEmbeddings(text.hiddenStates(), Optional.empty(),
                    Optional.of(torch.zeros(1, 9)), Optional.empty());
            e = assertThrows(IllegalArgumentException.class, () -> SD3.unconditional(wide));
            assertEquals("pooled_projections has width 9, expected 8 (pooled_projection_dim of "
                    + "SD3Transformer2DModel)", e.getMessage());
            Conditioning narrow = TextEmbeddings.of(torch.zeros(1, 3, 15));
            e = assertThrows(IllegalArgumentException.class, () -> SD3.latentShape(narrow));
            assertEquals("encoder_hidden_states has width 15, expected 16 (joint_attention_dim of "
                    + "SD3Transformer2DModel)", e.getMessage());
            Conditioning masked = new TextEmbeddings(text.hiddenStates(),
                    Optional.of(Tensors.fromLongs(new long[] {1, 1, 1, 1, 0}, 1, 5)), text.pooled(),
                    Optional.empty());
            e = assertThrows(IllegalArgumentException.class, () -> SD3.latentShape(masked));
            assertTrue(e.getMessage().contains("encoder_attention_mask masks tokens out"), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class,
                () -> SD3.latentShape(io.ditcache.model.ClassLabels.of(1)));
        assertEquals("SD3Transformer2DModel is conditioned on text embeddings, not ClassLabels", e.getMessage());
    }
}
