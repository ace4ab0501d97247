package io.ditcache.model.cogvideox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Step;
import io.ditcache.cache.Streams;
import io.ditcache.internal.Tensors;
import io.ditcache.model.LatentSize;
import io.ditcache.model.PredictionType;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.PolicyContract;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.EnumMap;
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

/** CogVideoX as a {@link io.ditcache.model.Denoiser}: conditioning, defaults, reused parts and the cache contract. */
class CogVideoXDenoiserTest {
    private static final int TEXT = 8;
    private static final int TOKENS = 6;
    /**
     * 1.0: 3 blocks (dbcache needs a middle one) of 2 heads x 16, the 3-D sin-cos table, 8 x 8 latents of 2 frames
     * (sample_frames 5).
     */
    static final CogVideoXModel V10 = random(config(0, false), 7);
    /** 1.5: temporal patches of 2 frames, Linear patch embedding, RoPE. */
    static final CogVideoXModel V15 = random(config(2, true), 8);

    static CogVideoXConfig config(int patchT, boolean rope) {
        return new CogVideoXConfig(2, 16, 4, 4, true, 0, 8, TEXT, 3, true, 8, 8, 5, 2, patchT, 4, TOKENS, 1e-5, 1.875,
                1.0, rope, true);
    }

    /** {@code config}'s model with every weight {@code 0.1 * randn} (norm weights {@code 1 + 0.1 * randn}). */
    static CogVideoXModel random(CogVideoXConfig config, long seed) {
        CogVideoXModel model = new CogVideoXModel(config);
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor t = e.getValue();
                Tensor r = torch.randn(Tensors.shape(t), gen, new TensorOptions(ScalarType.Float))
                        .mul(new Scalar(0.1));
                boolean normWeight = e.getKey().endsWith("norm.weight") || e.getKey().endsWith("norm_q.weight")
                        || e.getKey().endsWith("norm_k.weight") || e.getKey().equals("norm_final.weight");
                t.copy_(normWeight ? r.add(new Scalar(1.0)) : r);
            }
        }
        return model;
    }

    /** One prompt: seeded text tokens, kept alive past the caller's scopes. */
    static Condition prompt(long seed) {
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        Tensor states = torch.randn(new long[] {1, TOKENS, TEXT}, gen, new TensorOptions(ScalarType.Float));
        states.retainReference();
        return new Condition(TextEmbeddings.of(states), seed);
    }

    static SamplingOptions options(int steps) {
        return new SamplingOptions(List.of(prompt(1), prompt(2)), steps, 3.0);
    }

    @Test
    void everyPolicyKeepsTheCacheContractOnCogVideoX10() {
        PolicyContract.check(V10, "cogvideox-ddim", CogVideoXModel.SCHEDULER_CONFIG, options(6));
    }

    @Test
    void everyPolicyKeepsTheCacheContractOnCogVideoX15() {
        PolicyContract.check(V15, "cogvideox-ddim", CogVideoXModel.SCHEDULER_CONFIG, options(6));
    }

    /**
     * A block given the parts it computed itself, one or several at a time, gives its own output: the video or
     * text half of the joint attention (the other stream's queries alone) and the video or text rows of the one
     * feed-forward each equal the whole.
     */
    @Test
    void reusedPartsEnterWhereComputedOnesDo() {
        for (CogVideoXModel model : List.of(V10, V15)) {
            CogVideoXConfig c = model.config();
            try (PointerScope scope = new PointerScope()) {
                GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(3));
                int frames = 2 / c.framesPerPatch();
                long s = frames * 16L;
                Tensor x = torch.randn(new long[] {2, s, c.innerDim()}, gen, new TensorOptions(ScalarType.Float));
                Tensor ctx = torch.randn(new long[] {2, TOKENS, c.innerDim()}, gen,
                        new TensorOptions(ScalarType.Float));
                Tensor temb = torch.randn(new long[] {2, c.timeEmbedDim()}, gen, new TensorOptions(ScalarType.Float));
                CogVideoXPositions.Rope rope = c.rope() ? CogVideoXPositions.rope(c, frames, 4, 4) : null;
                Step step = Step.conditional(0, 1, 0, 2);
                for (int layer = 0; layer < c.numLayers(); layer++) {
                    CogVideoXBlock block = model.block(layer);
                    Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
                    Streams full = block.forward(x, ctx, temb, rope, step, ActivationProbe.NONE, Map.of(), parts);
                    assertEquals(c.blockLayout().block(layer).parts(), parts.keySet(), "parts of block " + layer);
                    for (BlockPart p : parts.keySet()) {
                        Streams one = block.forward(x, ctx, temb, rope, step, ActivationProbe.NONE,
                                Map.of(p, parts.get(p)), null);
                        assertClose(full, one, "block " + layer + " reusing " + p);
                    }
                    for (List<BlockPart> pair : List.of(List.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD),
                            List.of(BlockPart.CONTEXT_ATTENTION, BlockPart.CONTEXT_FEED_FORWARD))) {
                        Streams two = block.forward(x, ctx, temb, rope, step, ActivationProbe.NONE,
                                Map.of(pair.get(0), parts.get(pair.get(0)), pair.get(1), parts.get(pair.get(1))),
                                null);
                        assertClose(full, two, "block " + layer + " reusing " + pair);
                    }
                    Streams all = block.forward(x, ctx, temb, rope, step, ActivationProbe.NONE, parts, null);
                    assertClose(full, all, "block " + layer + " reusing every part");
                    // a part that is not the block's own changes the output: reuse is really used
                    Streams other = block.forward(x, ctx, temb, rope, step, ActivationProbe.NONE,
                            Map.of(BlockPart.FEED_FORWARD, parts.get(BlockPart.FEED_FORWARD).mul(new Scalar(2))),
                            null);
                    assertTrue(maxDiff(full.image(), other.image()) > 1e-4, "a changed part is used");
                }
            }
        }
    }

    private static double maxDiff(Tensor a, Tensor b) {
        return a.sub(b).abs().max().item_double();
    }

    private static void assertClose(Streams want, Streams got, String what) {
        assertArrayEquals(Tensors.toFloats(want.image()), Tensors.toFloats(got.image()), 1e-5f, what + " video");
        assertArrayEquals(Tensors.toFloats(want.context()), Tensors.toFloats(got.context()), 1e-5f, what + " text");
    }

    @Test
    void conditioningShapesAndDefaults() {
        TextEmbeddings text = (TextEmbeddings) prompt(4).conditioning();
        // sample_frames 5 -> (5 - 1) / 4 + 1 = 2 latent frames, [F, C, H, W]
        assertArrayEquals(new long[] {2, 4, 8, 8}, V10.latentShape(text));
        assertArrayEquals(new long[] {3, 4, 12, 6}, V10.latentShape(text.at(new LatentSize(3, 12, 6))));
        assertArrayEquals(new long[] {4, 4, 8, 8}, V15.latentShape(text.at(new LatentSize(4, 8, 8))));
        assertEquals(3 * 6 * 3, V10.imageTokens(new long[] {3, 4, 12, 6}));
        assertEquals(2 * 4 * 4, V15.imageTokens(new long[] {4, 4, 8, 8}), "frame pairs x rows x cols");
        assertEquals(PredictionType.V_PREDICTION, V10.info().prediction());
        SamplingDefaults d = V10.samplingDefaults();
        assertEquals("CogVideoXDDIMScheduler", d.scheduler());
        assertEquals(50, d.steps());
        assertEquals(6.0, d.guidance());
        assertEquals(SamplingDefaults.Guidance.CLASSIFIER_FREE, d.kind());
        assertEquals("cogvideox-ddim", Schedulers.create(d.scheduler(), d.schedulerConfig()).name());
        assertEquals("v_prediction", d.schedulerConfig().get("prediction_type"));
        assertEquals("trailing", d.schedulerConfig().get("timestep_spacing"));
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings u = (TextEmbeddings) V10.unconditional(text);
            assertArrayEquals(Tensors.shape(text.hiddenStates()), Tensors.shape(u.hiddenStates()));
            assertEquals(0.0, u.hiddenStates().abs().sum().item_double());
        }
    }

    @Test
    void conditioningTheModelCannotTakeIsNamed() {
        TextEmbeddings text = (TextEmbeddings) prompt(5).conditioning();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> V15.latentShape(text.at(new LatentSize(3, 8, 8))));
        assertTrue(e.getMessage().contains("frames a multiple of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> V10.latentShape(text.at(new LatentSize(2, 7, 8))));
        assertTrue(e.getMessage().contains("multiples of patch_size 2"), e.getMessage());
        try (PointerScope scope = new PointerScope()) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> V10.latentShape(TextEmbeddings.of(torch.zeros(1, 5, TEXT))));
            assertEquals("encoder_hidden_states has 5 tokens, expected 6 (max_text_seq_length of "
                    + "CogVideoXTransformer3DModel; the pipeline pads the prompt to it)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> V10.latentShape(TextEmbeddings.of(torch.zeros(1, TOKENS, 9))));
            assertEquals("encoder_hidden_states has width 9, expected 8 (text_embed_dim of "
                    + "CogVideoXTransformer3DModel)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> V10.latentShape(new TextEmbeddings(
                    torch.zeros(1, TOKENS, TEXT), Optional.empty(), Optional.of(torch.zeros(1, 4)), Optional.empty())));
            assertTrue(e.getMessage().contains("no pooled"), e.getMessage());
        }
    }
}
