package io.ditcache.model.cogvideox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.layers.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CogVideoX configs: parameter shapes by arithmetic against the module and the weights, layout, checks. */
class CogVideoXConfigTest {
    private static final String TINY = "{\"_class_name\": \"CogVideoXTransformer3DModel\", \"num_attention_heads\": 2,"
            + " \"attention_head_dim\": 16, \"in_channels\": 4, \"out_channels\": 4, \"time_embed_dim\": 8,"
            + " \"text_embed_dim\": 8, \"num_layers\": 2, \"sample_width\": 8, \"sample_height\": 8,"
            + " \"sample_frames\": 9, \"max_text_seq_length\": 6}";

    /** The tiny config with the keys of {@code extra} (", \"key\": value, ...") replaced. */
    private static DiffusersConfig config(String extra) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = (ObjectNode) json.readTree(TINY);
        if (!extra.isEmpty()) {
            c.setAll((ObjectNode) json.readTree("{" + extra.substring(1) + "}"));
        }
        return DiffusersConfig.parse(json.writeValueAsBytes(c), "tiny/config.json");
    }

    @Test
    void shapesByArithmeticAreTheModulesInRegistrationOrder() throws Exception {
        for (String extra : List.of("", ", \"patch_size_t\": 2, \"use_rotary_positional_embeddings\": true",
                ", \"attention_bias\": false", ", \"out_channels\": 8, \"patch_size\": 1",
                ", \"patch_size_t\": 1, \"use_rotary_positional_embeddings\": true, \"patch_bias\": false")) {
            CogVideoXConfig c = CogVideoXFamily.config(config(extra));
            Map<String, long[]> arithmetic = c.parameterShapes();
            Map<String, long[]> module = Weights.parameterShapes(new CogVideoXModel(c));
            assertEquals(new ArrayList<>(module.keySet()), new ArrayList<>(arithmetic.keySet()), extra);
            module.forEach((k, v) -> assertArrayEquals(v, arithmetic.get(k), k));
            long count = module.values().stream().mapToLong(s -> java.util.Arrays.stream(s).reduce(1,
                    Math::multiplyExact)).sum();
            assertEquals(count, c.parameterCount(), extra);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cogvideox:8664", "cogvideox_rope:30632"})
    void shapesAreTheFixtureCheckpoints(String fixtureAndCount, @TempDir Path dir) throws Exception {
        String fixture = fixtureAndCount.split(":")[0];
        long count = Long.parseLong(fixtureAndCount.split(":")[1]); // meta.json's num_parameters
        Path ckpt = CogVideoXFixtures.checkpoint(fixture, dir);
        CogVideoXConfig c = CogVideoXFamily.config(DiffusersConfig.read(ckpt.resolve("config.json")));
        try (SafetensorsFile f = SafetensorsFile.open(ckpt.resolve("diffusion_pytorch_model.safetensors"))) {
            Map<String, long[]> shapes = c.parameterShapes();
            assertEquals(f.names(), shapes.keySet());
            shapes.forEach((k, v) -> assertArrayEquals(f.info(k).dims(), v, k));
        }
        assertEquals(count, c.parameterCount());
        assertEquals(count, ModelLoader.load(ckpt).info().parameterCount());
    }

    /**
     * CogVideoX-5b (d = 48 x 64 = 3072, time_embed_dim E = 512, text 4096, in/out 16, patch 2, 42 blocks, RoPE so no
     * position buffer), by hand:
     * <pre>
     * patch_embed.proj (conv)   3072*16*2*2 + 3072          =     199,680
     * patch_embed.text_proj     4096*3072 + 3072            =  12,585,984
     * time_embedding.linear_1   3072*512 + 512              =   1,573,376
     * time_embedding.linear_2   512*512 + 512               =     262,656
     * per block: norm1, norm2   2 x (512*18432 + 18432 + 2*3072)   = 18,923,520
     *            attn1 norms    4 x 64                             =        256
     *            to_q/k/v/out   4 x (3072*3072 + 3072)             = 37,761,024
     *            ff             3072*12288 + 12288 + 12288*3072 + 3072 = 75,512,832
     *            block total                                       = 132,197,632
     * 42 blocks                                             = 5,552,300,544
     * norm_final                2*3072                      =       6,144
     * norm_out.linear           512*6144 + 6144             =   3,151,872
     * norm_out.norm             2*3072                      =       6,144
     * proj_out                  3072*64 + 64                =     196,672
     * total                                                 = 5,570,283,072
     * </pre>
     */
    @Test
    void cogVideoX5bDescribedWithoutAllocating(@TempDir Path dir) throws Exception {
        DiffusersConfig cfg = DiffusersConfig.read(Fixtures.copy("/fixtures/configs/cogvideox-5b.json",
                dir.resolve("config.json")));
        ModelDescription d = new CogVideoXFamily().describe(cfg);
        assertEquals(5_570_283_072L, d.parameterCount());
        assertEquals(CogVideoXConfig.CLASS_NAME, d.className());
        BlockLayout layout = d.layout();
        assertEquals(42, layout.size());
        double width = 3072;
        for (Block b : layout.blocks()) {
            assertEquals(BlockGroup.PLAIN, b.group(), "block " + b.index());
            assertTrue(b.context(), "the text rows are the context stream");
            assertTrue(b.residual());
            assertEquals(EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION, BlockPart.FEED_FORWARD,
                    BlockPart.CONTEXT_FEED_FORWARD), b.parts());
            // per token pair (one video, one text): q, k, v, out and the 4x feed-forward each
            assertEquals(24 * width * width, b.cost(), 1e-6 * b.cost(), "block " + b.index());
        }
        assertEquals("patch_embed.proj.weight", d.parameters().keySet().iterator().next());
        assertArrayEquals(new long[] {64, 3072}, d.parameters().get("proj_out.weight"));
    }

    @Test
    void badConfigsNameFileKeyAndValue() {
        assertRefused(", \"attention_head_dim\": 8, \"use_rotary_positional_embeddings\": true",
                "attention_head_dim is 8", "multiple of 16");
        assertRefused(", \"patch_size_t\": 2", "patch_size_t is 2", "use_rotary_positional_embeddings");
        assertRefused(", \"activation_fn\": \"gelu\"", "activation_fn", "gelu-approximate");
        assertRefused(", \"ofs_embed_dim\": 512", "ofs_embed_dim is 512");
        assertRefused(", \"use_learned_positional_embeddings\": true", "use_learned_positional_embeddings");
        assertRefused(", \"num_layers\": 0", "num_layers is 0");
        assertRefused(", \"max_text_seq_length\": -1", "max_text_seq_length is -1");
        assertRefused(", \"num_attention_heads\": 20000000", "num_attention_heads 20000000", "too large");
    }

    private static void assertRefused(String extra, String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> CogVideoXFamily.config(config(extra)));
        assertTrue(e.getMessage().startsWith("tiny/config.json: "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void configThatDisagreesWithTheWeightsIsRefusedBeforeBuilding(@TempDir Path dir) throws Exception {
        Path ckpt = CogVideoXFixtures.checkpoint("cogvideox", dir);
        String json = Files.readString(ckpt.resolve("config.json"));
        for (String[] c : new String[][] {
            {"\"num_layers\": 2", "\"num_layers\": 3", "num_layers is 3"},
            {"\"text_embed_dim\": 8", "\"text_embed_dim\": 12", "text_embed_dim is 12",
                "patch_embed.text_proj.weight", "[16, 8]"},
            {"\"time_embed_dim\": 2", "\"time_embed_dim\": 4", "time_embed_dim is 4",
                "time_embedding.linear_1.weight"},
            {"\"out_channels\": 4", "\"out_channels\": 8", "out_channels is 8", "proj_out.weight"},
            {"\"attention_head_dim\": 8", "\"attention_head_dim\": 16",
                "num_attention_heads 2 x attention_head_dim 16 = 32", "patch_embed.proj.weight", "inner dim 16"}}) {
            Files.writeString(ckpt.resolve("config.json"), json.replace(c[0], c[1]));
            try (Checkpoint cp = Checkpoint.open(ckpt)) {
                CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(cp));
                assertTrue(e.getMessage().contains("config.json"), e.getMessage());
                for (int i = 2; i < c.length; i++) {
                    assertTrue(e.getMessage().contains(c[i]), "'" + c[i] + "' in: " + e.getMessage());
                }
            }
        }
        // a 1.5 checkpoint (Linear patch embedding) under a 1.0 config
        Path rope = CogVideoXFixtures.checkpoint("cogvideox_rope", dir.resolve("rope"));
        String ropeJson = Files.readString(rope.resolve("config.json"));
        Files.writeString(rope.resolve("config.json"), ropeJson.replace("\"patch_size_t\": 2",
                "\"patch_size_t\": null"));
        try (Checkpoint cp = Checkpoint.open(rope)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(cp));
            assertTrue(e.getMessage().contains("patch_size_t is null") && e.getMessage().contains("rank 2"),
                    e.getMessage());
        }
    }
}
