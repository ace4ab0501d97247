package io.ditcache.model.sd3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.JsonFiles;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.Denoiser;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.layers.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SD3 family: configuration, description without allocating, loading and what a bad checkpoint is told. */
class SD3FamilyTest {
    static DiffusersConfig config(String resource, Path dir) throws Exception {
        return DiffusersConfig.read(Fixtures.copy(resource, dir.resolve("config.json")));
    }

    /** The parameter shapes by arithmetic are the module's named parameters, key for key, in order. */
    @Test
    void parameterShapesAreTheModulesParameters() {
        List<SD3Config> configs = List.of(SD3TestModels.tiny(false, List.of()), SD3TestModels.tiny(true, List.of()),
                SD3TestModels.tiny(true, List.of(0, 1, 2)), SD3TestModels.tiny(false, List.of(2)));
        for (SD3Config c : configs) {
            Map<String, long[]> want = c.parameterShapes();
            Map<String, long[]> got = Weights.parameterShapes(new SD3Model(c));
            assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()), c.toString());
            want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
            assertEquals(SD3Config.count(want), c.parameterCount(), "count by arithmetic of " + c);
        }
    }

    /** diffusers' own count ({@code num_parameters} in each fixture's meta.json) and the fixture's keys. */
    @ParameterizedTest
    @ValueSource(strings = {"sd3", "sd3_p2", "sd35"})
    void describeCountsAsDiffusersDoes(String name, @TempDir Path dir) throws Exception {
        DiffusersConfig config = config("/fixtures/diffusers/" + name + "/config.json", dir);
        ModelDescription d = new SD3Family().describe(config);
        Map<String, Object> meta = JsonFiles.readObject(Fixtures.copy("/fixtures/diffusers/" + name + "/meta.json",
                dir.resolve("meta.json")));
        assertEquals(((Number) meta.get("num_parameters")).longValue(), d.parameterCount(), name);
        Path weights = Fixtures.copy("/fixtures/diffusers/" + name + "/model.safetensors",
                dir.resolve("model.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            Map<String, long[]> all = SD3Family.config(config).stateDictShapes();
            assertEquals(f.names(), all.keySet(), "the fixture's state dict");
            all.forEach((k, v) -> assertArrayEquals(v, f.info(k).dims(), k));
        }
    }

    /**
     * SD3-medium's parameter count from its config, without allocating, against diffusers' count of the module
     * tree of {@code SD3Transformer2DModel} (transformer_sd3.py, attention.py JointTransformerBlock,
     * attention_processor.py Attention, embeddings.py, normalization.py at 0.40.0.dev0), derived by hand:
     *
     * <pre>
     * d = 24 heads x 64 = 1536, patch 2, in = out = 16, joint 4096, caption 1536, pooled 2048, 24 layers,
     * qk_norm None, no dual attention; lin(i, o) = i*o + o.
     * pos_embed.proj (Conv2d 16 -> d, 2x2)           16*4*d + d            =      99,840
     * time_text_embed.timestep_embedder              lin(256, d) + lin(d, d) =   2,755,584
     * time_text_embed.text_embedder                  lin(2048, d) + lin(d, d) =  5,508,096
     * context_embedder                               lin(4096, 1536)       =   6,292,992
     * norm_out.linear                                lin(d, 2d)            =   4,721,664
     * proj_out                                       lin(d, 4*16)          =      98,368
     * block 0..22: norm1.linear lin(d, 6d) 14,164,992; norm1_context.linear 14,164,992; attn: to_q, to_k, to_v,
     *   add_k_proj, add_v_proj, add_q_proj, to_out.0, to_add_out = 8 lin(d, d) = 18,886,656; ff and ff_context
     *   (net.0.proj lin(d, 4d) + net.2 lin(4d, d)) 2 x 18,882,048                 = 84,980,736 each
     * block 23 (context_pre_only): norm1 14,164,992; norm1_context (AdaLayerNormContinuous) lin(d, 2d)
     *   4,721,664; attn without to_add_out 7 lin(d, d) = 16,525,824; ff 18,882,048 = 54,294,528
     * total = 19,476,544 + 23 x 84,980,736 + 54,294,528                          = 2,028,328,000
     * </pre>
     *
     * The stored position table {@code pos_embed.pos_embed} (1 x 192^2 x 1536) is a buffer: diffusers does not
     * count it, and neither does the description (it is in {@link SD3Config#stateDictShapes()}).
     */
    @Test
    void sd3MediumHasDiffusersParameterCount(@TempDir Path dir) throws Exception {
        long d = 1536;
        long fixed = (16 * 4 * d + d) + lin(256, d) + lin(d, d) + lin(2048, d) + lin(d, d) + lin(4096, 1536)
                + lin(d, 2 * d) + lin(d, 4 * 16);
        long ff = lin(d, 4 * d) + lin(4 * d, d);
        long block = 2 * lin(d, 6 * d) + 8 * lin(d, d) + 2 * ff;
        long last = lin(d, 6 * d) + lin(d, 2 * d) + 7 * lin(d, d) + ff;
        long diffusers = fixed + 23 * block + last;
        assertEquals(2_028_328_000L, diffusers, "the derivation's figure");

        DiffusersConfig config = config("/fixtures/configs/sd3-medium.json", dir);
        ModelDescription m = new SD3Family().describe(config);
        assertEquals(diffusers, m.parameterCount());
        assertEquals(diffusers, SD3Family.config(config).parameterCount(), "by arithmetic");
        assertFalse(m.parameters().containsKey("pos_embed.pos_embed"), "a buffer, not a parameter");
        assertEquals("SD3Transformer2DModel", m.className());

        BlockLayout layout = m.layout();
        assertEquals(24, layout.size());
        for (Block b : layout.blocks()) {
            assertEquals(BlockGroup.JOINT, b.group());
            assertTrue(b.context() && b.residual(), "block " + b.index());
            EnumSet<BlockPart> parts = b.index() == 23 ? EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD)
                    : EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD, BlockPart.CONTEXT_ATTENTION,
                            BlockPart.CONTEXT_FEED_FORWARD);
            assertEquals(parts, b.parts(), "block " + b.index());
        }
        // per token pair: image q, k, v, out + ff (12 d^2) and the text stream's own (12 d^2; 3 d^2 in the last)
        assertEquals(24.0 * d * d, layout.block(0).cost());
        assertEquals(15.0 * d * d, layout.block(23).cost());
    }

    private static long lin(long in, long out) {
        return in * out + out;
    }

    @Test
    void sd35DualBlocksCostTheirSecondAttention() {
        BlockLayout layout = SD3TestModels.tiny(true, List.of(0)).blockLayout();
        double d = 16;
        assertEquals(28 * d * d, layout.block(0).cost());
        assertEquals(24 * d * d, layout.block(1).cost());
    }

    @Test
    void aCheckpointRoundTripsWithItsPositionTable(@TempDir Path dir) throws Exception {
        SD3Model made = SD3TestModels.random(SD3TestModels.tiny(true, List.of(1)), 21);
        CheckpointWriter.save(made, dir.resolve("ckpt"), Map.of("format", "pt"));
        Denoiser loaded = ModelLoader.load(dir.resolve("ckpt"));
        assertInstanceOf(SD3Model.class, loaded);
        assertEquals(made.config(), ((SD3Model) loaded).config());
        assertEquals(made.stateDict().keySet(), loaded.stateDict().keySet());
        assertTrue(loaded.stateDict().containsKey("pos_embed.pos_embed"));
        for (Map.Entry<String, Tensor> e : made.stateDict().entrySet()) {
            assertArrayEquals(Tensors.toFloats(e.getValue()), Tensors.toFloats(loaded.stateDict().get(e.getKey())),
                    e.getKey());
        }
        assertEquals(made.config().parameterCount(), loaded.info().parameterCount());
    }

    /** Edits the fixture's config.json and expects loading to fail naming config.json, the key and the weight. */
    private static void refused(String fixture, String from, String to, Path dir, String... expected)
            throws Exception {
        Path ckpt = SD3GoldenTest.checkpoint(fixture, dir.resolve(fixture));
        Path cfg = ckpt.resolve("config.json");
        String text = Files.readString(cfg);
        assertTrue(text.contains(from), from);
        Files.writeString(cfg, text.replace(from, to));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(cfg.toString()), e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
        }
    }

    @Test
    void aConfigThatDisagreesWithTheWeightsNamesFileAndKey(@TempDir Path dir) throws Exception {
        String weights = "diffusion_pytorch_model.safetensors";
        refused("sd3", "\"num_layers\": 4", "\"num_layers\": 3", dir.resolve("a"), "num_layers is 3",
                "holds 4 transformer blocks");
        refused("sd3", "\"joint_attention_dim\": 32", "\"joint_attention_dim\": 48", dir.resolve("b"),
                "joint_attention_dim is 48", "context_embedder.weight", weights);
        refused("sd3", "\"pooled_projection_dim\": 64", "\"pooled_projection_dim\": 32", dir.resolve("c"),
                "pooled_projection_dim is 32", "time_text_embed.text_embedder.linear_1.weight", weights);
        refused("sd3", "\"pos_embed_max_size\": 96", "\"pos_embed_max_size\": 64", dir.resolve("d"),
                "pos_embed_max_size is 64", "pos_embed.pos_embed", "96 x 96 positions");
        refused("sd3", "\"qk_norm\": null", "\"qk_norm\": \"rms_norm\"", dir.resolve("e"), "qk_norm is \"rms_norm\"",
                "has no tensor transformer_blocks.0.attn.norm_q.weight");
        refused("sd35", "\"dual_attention_layers\": [\n    0\n  ]", "\"dual_attention_layers\": [1]",
                dir.resolve("f"), "dual_attention_layers is [1]", "attn2 weights in blocks [0]");
        refused("sd3", "\"num_attention_heads\": 4", "\"num_attention_heads\": 2", dir.resolve("g"),
                "caption_projection_dim is 32, expected num_attention_heads 2 x attention_head_dim 8 = 16");
        refused("sd3", "\"out_channels\": 4", "\"out_channels\": 8", dir.resolve("h"), "out_channels is 8",
                "proj_out.weight");
        refused("sd35", "\"attention_head_dim\": 8", "\"attention_head_dim\": 4", dir.resolve("i"),
                "caption_projection_dim is 32");
    }

    @Test
    void configsTheFamilyCannotBuildAreNamed(@TempDir Path dir) throws Exception {
        refused("sd3", "\"qk_norm\": null", "\"qk_norm\": \"layer_norm\"", dir.resolve("a"),
                "qk_norm is \"layer_norm\", expected null or \"rms_norm\"");
        refused("sd3", "\"dual_attention_layers\": []", "\"dual_attention_layers\": [4]", dir.resolve("b"),
                "dual_attention_layers holds 4, expected block indices from 0 to 3");
        refused("sd3", "\"pos_embed_max_size\": 96", "\"pos_embed_max_size\": null", dir.resolve("c"),
                "pos_embed_max_size is null");
        refused("sd3", "\"pos_embed_max_size\": 96", "\"pos_embed_max_size\": 16", dir.resolve("d"),
                "sample_size 32 / patch_size 1 = 32 tokens per side, more than pos_embed_max_size 16");
    }

    @Test
    void aWeightThatDisagreesIsNamedWithItsFile(@TempDir Path dir) throws Exception {
        Path ckpt = SD3GoldenTest.checkpoint("sd3_p2", dir.resolve("p2"));
        Path file = ckpt.resolve("diffusion_pytorch_model.safetensors");
        Map<String, Tensor> state = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String k : f.names()) {
                if (!k.equals("transformer_blocks.1.attn.add_q_proj.bias")) {
                    state.put(k, f.load(k));
                }
            }
            Files.delete(file);
            SafetensorsWriter.write(file, state, Map.of());
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertTrue(e.getMessage().contains(ckpt + " (diffusion_pytorch_model.safetensors)"), e.getMessage());
        assertTrue(e.getMessage().contains("missing keys [transformer_blocks.1.attn.add_q_proj.bias]"),
                e.getMessage());
    }

    /** diffusers' forward on a file of its inputs, and an input that does not fit named by file and tensor. */
    @Test
    void diffusersForwardTakesItsInputsByName(@TempDir Path dir) throws Exception {
        SD3Model model = (SD3Model) ModelLoader.load(SD3GoldenTest.checkpoint("sd3_p2", dir.resolve("p2")));
        assertEquals(List.of("hidden_states", "encoder_hidden_states", "pooled_projections", "timestep"),
                model.inputNames());
        Path golden = Fixtures.copy("/fixtures/diffusers/sd3_p2/golden.safetensors", dir.resolve("golden"));
        Path inputs = dir.resolve("inputs.safetensors");
        Path bad = dir.resolve("bad.safetensors");
        try (PointerScope scope = new PointerScope(); SafetensorsFile g = SafetensorsFile.open(golden)) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (String name : model.inputNames()) {
                in.put(name, g.load("input." + name));
            }
            SafetensorsWriter.write(inputs, in, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(inputs)) {
                Tensor out = model.forward(f, null, io.ditcache.ActivationProbe.NONE);
                assertTrue(SD3GoldenTest.maxAbsDiff(g.floats("output.sample"), Tensors.toFloats(out)) <= 1e-4);
            }
            in.put("pooled_projections", g.load("input.pooled_projections").narrow(1, 0, 8).contiguous());
            SafetensorsWriter.write(bad, in, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(bad)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, io.ditcache.ActivationProbe.NONE));
                assertEquals(bad + ": tensor 'pooled_projections' has shape [2, 8], expected [2, 16] "
                        + "(pooled_projection_dim)", e.getMessage());
            }
            in.put("pooled_projections", g.load("input.pooled_projections"));
            in.put("timestep", Tensors.fromFloats(new float[] {1000f, 1001f}, 2));
            SafetensorsWriter.write(bad, in, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(bad)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(f, null, io.ditcache.ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("tensor 'timestep' holds 1001.0 at index 1, expected a timestep "
                        + "from 0 to 1000"), e.getMessage());
            }
        }
    }
}
