package io.ditcache.model.pixart;

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
 * The PixArt configuration: parameter shapes computed by arithmetic equal the module's (keys, order, shapes) and
 * diffusers' count, the published PixArt-XL-2-1024-MS is described without allocating, diffusers' defaults, and
 * configs that are not PixArt-α or disagree with their weights are refused naming the file and the key.
 */
class PixArtConfigTest {
    static final String FIXTURE = "/fixtures/diffusers/pixart/config.json";

    /** The fixture's config with each {@code from} replaced by the {@code to} after it. */
    static DiffusersConfig fixtureConfig(String... fromTo) throws Exception {
        Path tmp = Files.createTempFile("pixart", ".json");
        try {
            String json = Files.readString(Fixtures.copy(FIXTURE, tmp));
            for (int i = 0; i + 1 < fromTo.length; i += 2) {
                assertTrue(fromTo[i].isEmpty() || json.contains(fromTo[i]), fromTo[i]);
                json = fromTo[i].isEmpty() ? json : json.replace(fromTo[i], fromTo[i + 1]);
            }
            return DiffusersConfig.parse(json.getBytes(StandardCharsets.UTF_8), "pixart/config.json");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static DiffusersConfig published() throws Exception {
        Path tmp = Files.createTempFile("pixart-xl", ".json");
        try {
            Fixtures.copy("/fixtures/configs/pixart-xl-2-1024-ms.json", tmp);
            return DiffusersConfig.parse(Files.readAllBytes(tmp), "pixart-xl-2-1024-ms.json");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void sameShapes(Map<String, long[]> want, Map<String, long[]> got) {
        assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()), "keys in registration order");
        want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
    }

    @Test
    void computedShapesAreTheModulesParameters() {
        List<PixArtConfig> configs = List.of(
                new PixArtConfig(8, 2, 4, 8, 3, 2, 16, 32, 32, 1e-6, true, false, 1, 1000), // the fixture
                new PixArtConfig(8, 2, 4, 8, 2, 3, 8, 24, 20, 1e-6, true, true, 1, 1000), // size embedders
                new PixArtConfig(16, 4, 3, 3, 1, 2, 8, 16, 7, 1e-5, false, false, 2, 1000)); // no q/k/v bias
        for (PixArtConfig c : configs) {
            PixArtModel model = new PixArtModel(c);
            sameShapes(c.parameterShapes(), Weights.parameterShapes(model));
            long elements = c.parameterShapes().values().stream()
                    .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum();
            assertEquals(elements, c.parameterCount(), "count by arithmetic");
            assertEquals(elements, model.info().parameterCount());
        }
    }

    @Test
    void theFixtureHasDiffusersParameterCount() throws Exception {
        // diffusers' sum(p.numel()) for the fixture model, recorded in its meta.json: 70368
        ModelDescription d = new PixArtFamily().describe(fixtureConfig("", ""));
        assertEquals(70_368, d.parameterCount());
    }

    /**
     * PixArt-XL-2-1024-MS, d = 16 x 72 = 1152, 28 blocks, patch 2, in 4, out 8, caption 4096, cross 1152, with
     * the resolution and aspect-ratio embedders (d / 3 = 384 wide). diffusers' module tree, counted by hand:
     * <pre>
     * scale_shift_table                     2 d                          =       2,304
     * pos_embed.proj (conv 4 -> d, 2x2)     d*4*2*2 + d                  =      19,584
     * per block: scale_shift_table          6 d                          =       6,912
     *            attn1 q, k, v, out         4 (d*d + d)                  =   5,313,024
     *            attn2 q, k, v, out         4 (d*d + d) (cross = d)      =   5,313,024
     *            ff net.0.proj, net.2       (d*4d + 4d) + (4d*d + d)     =  10,622,592
     *            block                                                   =  21,255,552
     * 28 blocks                                                          = 595,155,456
     * proj_out                              d*(2*2*8) + 32               =      36,896
     * adaln_single.emb.timestep_embedder    (256 d + d) + (d*d + d)      =   1,624,320
     *   resolution_embedder                 (256*384 + 384) + (384*384 + 384) = 246,528
     *   aspect_ratio_embedder               the same                     =     246,528
     * adaln_single.linear                   d*6d + 6d                    =   7,969,536
     * caption_projection                    (4096 d + d) + (d*d + d)     =   6,048,000
     * total                                                              = 611,349,152
     * </pre>
     * about 0.61 B, the published figure.
     */
    @Test
    void thePublishedModelIsDescribedWithoutAllocating() throws Exception {
        ModelDescription d = new PixArtFamily().describe(published());
        assertEquals(611_349_152L, d.parameterCount());
        assertEquals("PixArtTransformer2DModel", d.className());
        PixArtConfig c = PixArtFamily.config(published());
        assertEquals(611_349_152L, c.parameterCount());
        assertEquals(2.0, c.interpolationScale(), "interpolation_scale null: max(128 // 64, 1)");
        assertTrue(c.useAdditionalConditions());
        assertEquals(28, d.layout().size());
        double dd = 1152.0 * 1152.0;
        for (Block b : d.layout().blocks()) {
            assertEquals(BlockGroup.PLAIN, b.group());
            assertEquals(EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION, BlockPart.FEED_FORWARD),
                    b.parts());
            assertFalse(b.context(), "text enters only as cross-attention keys and values");
            assertTrue(b.residual());
            assertEquals(14 * dd, b.cost(), 1e-6);
        }
        assertEquals(1152L * 4096, d.parameters().get("caption_projection.linear_1.weight")[0]
                * d.parameters().get("caption_projection.linear_1.weight")[1]);
        assertEquals(List.of("scale_shift_table", "pos_embed.proj.weight", "pos_embed.proj.bias",
                "transformer_blocks.0.scale_shift_table"), new ArrayList<>(d.parameters().keySet()).subList(0, 4));
    }

    @Test
    void diffusersDefaultsApply() throws Exception {
        assertEquals(1.0, PixArtFamily.config(fixtureConfig("", "")).interpolationScale(), "max(8 // 64, 1)");
        assertEquals(3.0, PixArtFamily.config(fixtureConfig("\"interpolation_scale\": null",
                "\"interpolation_scale\": 3")).interpolationScale());
        assertEquals(4, PixArtFamily.config(fixtureConfig("\"out_channels\": 8", "\"out_channels\": null"))
                .outChannels(), "out_channels null means in_channels");
        PixArtConfig big = PixArtFamily.config(fixtureConfig("\"use_additional_conditions\": false",
                "\"use_additional_conditions\": null", "\"sample_size\": 8", "\"sample_size\": 128",
                "\"num_attention_heads\": 2", "\"num_attention_heads\": 3", "\"cross_attention_dim\": 32",
                "\"cross_attention_dim\": 48"));
        assertTrue(big.useAdditionalConditions(), "null: sample_size == 128");
        assertFalse(PixArtFamily.config(fixtureConfig("\"use_additional_conditions\": false",
                "\"use_additional_conditions\": null")).useAdditionalConditions());
    }

    static void refused(String from, String to, String... words) throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> PixArtFamily.config(fixtureConfig(from, to)));
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
        refused("\"norm_type\": \"ada_norm_single\"", "\"norm_type\": \"ada_norm_zero\"", "pixart/config.json",
                "norm_type", "ada_norm_zero", "ada_norm_single");
        refused("\"activation_fn\": \"gelu-approximate\"", "\"activation_fn\": \"geglu\"", "pixart/config.json",
                "activation_fn", "geglu");
        refused("\"attention_type\": \"default\"", "\"attention_type\": \"gated\"", "attention_type", "gated");
        refused("\"norm_elementwise_affine\": false", "\"norm_elementwise_affine\": true",
                "norm_elementwise_affine");
        refused("\"caption_channels\": 32", "\"caption_channels\": null", "pixart/config.json",
                "caption_channels", "null");
        refused("\"cross_attention_dim\": 32", "\"cross_attention_dim\": 16", "pixart/config.json",
                "cross_attention_dim", "16", "32");
        refused("\"use_additional_conditions\": false", "\"use_additional_conditions\": true",
                "use_additional_conditions", "multiple of 3");
        refused("\"out_channels\": 8", "\"out_channels\": 6", "out_channels", "6");
        refused("\"patch_size\": 2", "\"patch_size\": 3", "sample_size", "patch_size");
    }

    static void refusedAtLoad(Path dir, String from, String to, String... words) throws Exception {
        refusedAtLoad(dir, new String[] {from, to}, words);
    }

    static void refusedAtLoad(Path dir, String[] fromTo, String... words) throws Exception {
        Path ckpt = PixArtFixtures.checkpoint(dir);
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
        refusedAtLoad(dir.resolve("a"), "\"num_layers\": 3", "\"num_layers\": 4", "config.json",
                "num_layers is 4", "holds 3 transformer blocks");
        refusedAtLoad(dir.resolve("b"), "\"caption_channels\": 32", "\"caption_channels\": 4096", "config.json",
                "caption_channels is 4096", "caption_projection.linear_1.weight", "[32, 32]");
        refusedAtLoad(dir.resolve("c"), new String[] {"\"num_attention_heads\": 2", "\"num_attention_heads\": 1",
            "\"cross_attention_dim\": 32", "\"cross_attention_dim\": 16"}, "config.json",
                "num_attention_heads 1 x attention_head_dim 16 = 16", "pos_embed.proj.weight");
        refusedAtLoad(dir.resolve("d"), new String[] {"\"in_channels\": 4", "\"in_channels\": 3",
            "\"out_channels\": 8", "\"out_channels\": 6"}, "config.json",
                "in_channels is 3");
        refusedAtLoad(dir.resolve("e"), "\"attention_bias\": true", "\"attention_bias\": false", "config.json",
                "attention_bias is false", "to_q.bias");
    }
}
