package io.ditcache.model.latte;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockPart;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.layers.Weights;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Latte configuration: parameter shapes computed by arithmetic equal the module's (keys, order, shapes) and
 * diffusers' count, the published Latte-1 is described without allocating (alternating spatial and temporal
 * blocks, costs from the shapes), and configs that are not Latte or disagree with their weights are refused naming
 * the file and the key.
 */
class LatteConfigTest {
    static final String FIXTURE = LatteFixtures.DIR + "config.json";

    /** The fixture's config with each {@code from} replaced by the {@code to} after it. */
    static DiffusersConfig fixtureConfig(String... fromTo) throws Exception {
        Path tmp = Files.createTempFile("latte", ".json");
        try {
            String json = Files.readString(Fixtures.copy(FIXTURE, tmp));
            for (int i = 0; i + 1 < fromTo.length; i += 2) {
                assertTrue(json.contains(fromTo[i]), fromTo[i]);
                json = json.replace(fromTo[i], fromTo[i + 1]);
            }
            return DiffusersConfig.parse(json.getBytes(StandardCharsets.UTF_8), "latte/config.json");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static DiffusersConfig published() throws Exception {
        Path tmp = Files.createTempFile("latte-1", ".json");
        try {
            Fixtures.copy("/fixtures/configs/latte-1.json", tmp);
            return DiffusersConfig.parse(Files.readAllBytes(tmp), "latte-1.json");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Test
    void computedShapesAreTheModulesParameters() {
        List<LatteConfig> configs = List.of(
                new LatteConfig(8, 2, 4, 8, 1, 2, 4, 8, 8, 1e-6, true, "gelu-approximate", 16, 1000), // fixture
                new LatteConfig(8, 2, 4, 4, 3, 3, 4, 12, 5, 1e-6, false, "gelu", 4, 1000)); // no bias, 3 layers
        for (LatteConfig c : configs) {
            LatteModel model = new LatteModel(c);
            Map<String, long[]> want = c.parameterShapes();
            Map<String, long[]> got = Weights.parameterShapes(model);
            assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()), "keys in registration order");
            want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
            long elements = want.values().stream()
                    .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum();
            assertEquals(elements, c.parameterCount(), "count by arithmetic");
            assertEquals(elements, model.info().parameterCount());
            assertFalse(want.containsKey("temporal_transformer_blocks.0.attn2.to_q.weight"),
                    "temporal blocks have no cross-attention");
        }
    }

    @Test
    void theFixtureHasDiffusersParameterCount() throws Exception {
        // diffusers' sum(p.numel()) for the fixture model, recorded in its meta.json: 5208
        ModelDescription d = new LatteFamily().describe(fixtureConfig());
        assertEquals(5_208, d.parameterCount());
    }

    /**
     * Latte-1, d = 16 x 72 = 1152, 28 layers (28 spatial + 28 temporal blocks), patch 2, in 4, out 8, caption
     * 4096, cross 1152. diffusers' module tree, counted by hand:
     * <pre>
     * scale_shift_table                     2 d                          =         2,304
     * pos_embed.proj (conv 4 -> d, 2x2)     d*4*2*2 + d                  =        19,584
     * spatial block: scale_shift_table      6 d                          =         6,912
     *            attn1 q, k, v, out         4 (d*d + d)                  =     5,313,024
     *            attn2 q, k, v, out         4 (d*d + d) (cross = d)      =     5,313,024
     *            ff net.0.proj, net.2       (d*4d + 4d) + (4d*d + d)     =    10,622,592
     *            block                                                   =    21,255,552
     * temporal block: the same without attn2                             =    15,942,528
     * 28 x (spatial + temporal) = 28 x 37,198,080                        = 1,041,546,240
     * proj_out                              d*(2*2*8) + 32               =        36,896
     * adaln_single.emb.timestep_embedder    (256 d + d) + (d*d + d)      =     1,624,320
     * adaln_single.linear                   d*6d + 6d                    =     7,969,536
     * caption_projection                    (4096 d + d) + (d*d + d)     =     6,048,000
     * total                                                              = 1,057,246,880
     * </pre>
     * about 1.06 B.
     */
    @Test
    void thePublishedModelIsDescribedWithoutAllocating() throws Exception {
        ModelDescription d = new LatteFamily().describe(published());
        assertEquals(1_057_246_880L, d.parameterCount());
        assertEquals("LatteTransformer3DModel", d.className());
        LatteConfig c = LatteFamily.config(published());
        assertEquals(1_057_246_880L, c.parameterCount());
        assertEquals(1.0, c.interpolationScale(), "max(64 // 64, 1)");
        assertEquals(56, d.layout().size());
        double dd = 1152.0 * 1152.0;
        double n = 32 * 32;
        for (Block b : d.layout().blocks()) {
            assertFalse(b.context(), "text enters only as cross-attention keys and values");
            assertTrue(b.residual());
            if (b.index() % 2 == 0) {
                assertEquals(BlockGroup.SPATIAL, b.group());
                assertEquals(EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                        BlockPart.FEED_FORWARD), b.parts());
                assertEquals(14 * dd + 2 * n * 1152, b.cost(), 1e-3);
            } else {
                assertEquals(BlockGroup.TEMPORAL, b.group());
                assertEquals(EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD), b.parts());
                assertEquals(12 * dd + 2 * 16 * 1152, b.cost(), 1e-3);
                assertTrue(b.cost() < d.layout().block(b.index() - 1).cost(), "attention over 16 frames is cheaper");
            }
        }
        assertEquals(List.of("scale_shift_table", "pos_embed.proj.weight", "pos_embed.proj.bias",
                "transformer_blocks.0.scale_shift_table"), new ArrayList<>(d.parameters().keySet()).subList(0, 4));
    }

    @Test
    void diffusersDefaultsApply() throws Exception {
        assertEquals(4, LatteFamily.config(fixtureConfig("\"out_channels\": 8", "\"out_channels\": null"))
                .outChannels(), "out_channels null means in_channels");
        assertEquals(16, LatteFamily.config(fixtureConfig("\"video_length\": 16", "\"_unused\": 16")).videoLength(),
                "video_length defaults to 16");
        assertEquals("gelu", LatteFamily.config(fixtureConfig("\"gelu-approximate\"", "\"gelu\"")).activation());
    }

    static void refused(String from, String to, String... words) throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> LatteFamily.config(fixtureConfig(from, to)));
        assertOneLine(e.getMessage(), words);
    }

    static void assertOneLine(String message, String... words) {
        assertFalse(message.contains("\n"), message);
        for (String w : words) {
            assertTrue(message.contains(w), "'" + w + "' in: " + message);
        }
    }

    @Test
    void fixedChoicesAreRefusedNamingFileKeyAndValue() throws Exception {
        refused("\"norm_type\": \"ada_norm_single\"", "\"norm_type\": \"layer_norm\"", "latte/config.json",
                "norm_type", "layer_norm", "ada_norm_single");
        refused("\"activation_fn\": \"gelu-approximate\"", "\"activation_fn\": \"geglu\"", "latte/config.json",
                "activation_fn", "geglu");
        refused("\"norm_elementwise_affine\": false", "\"norm_elementwise_affine\": true",
                "norm_elementwise_affine");
        refused("\"caption_channels\": 8", "\"caption_channels\": null", "latte/config.json", "caption_channels",
                "null");
        refused("\"cross_attention_dim\": 8", "\"cross_attention_dim\": 16", "latte/config.json",
                "cross_attention_dim", "16", "8");
        refused("\"out_channels\": 8", "\"out_channels\": 6", "out_channels", "6");
        refused("\"patch_size\": 2", "\"patch_size\": 3", "sample_size", "patch_size");
        refused("\"video_length\": 16", "\"video_length\": 0", "video_length", "0");
    }

    static void refusedAtLoad(Path dir, String[] fromTo, String... words) throws Exception {
        Path ckpt = LatteFixtures.checkpoint(dir);
        String json = Files.readString(ckpt.resolve("config.json"));
        for (int i = 0; i < fromTo.length; i += 2) {
            assertTrue(json.contains(fromTo[i]), fromTo[i]);
            json = json.replace(fromTo[i], fromTo[i + 1]);
        }
        Files.writeString(ckpt.resolve("config.json"), json);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertOneLine(e.getMessage(), words);
    }

    @Test
    void aConfigThatDisagreesWithItsWeightsIsNamed(@TempDir Path dir) throws Exception {
        refusedAtLoad(dir.resolve("a"), new String[] {"\"num_layers\": 1", "\"num_layers\": 2"}, "config.json",
                "num_layers is 2", "transformer_blocks.N");
        refusedAtLoad(dir.resolve("b"), new String[] {"\"caption_channels\": 8", "\"caption_channels\": 4096"},
                "config.json", "caption_channels is 4096", "caption_projection.linear_1.weight", "[8, 8]");
        refusedAtLoad(dir.resolve("c"), new String[] {"\"in_channels\": 4", "\"in_channels\": 3",
            "\"out_channels\": 8", "\"out_channels\": 6"}, "config.json", "in_channels is 3");
        refusedAtLoad(dir.resolve("d"), new String[] {"\"attention_bias\": true", "\"attention_bias\": false"},
                "config.json", "attention_bias is false", "to_q.bias");
    }
}
