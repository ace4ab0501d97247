package io.ditcache.model.mochi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockPart;
import io.ditcache.io.Checkpoint;
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

/** MochiConfig's shapes, count and layout by arithmetic against the module, the fixture's header and diffusers. */
class MochiConfigTest {
    static long count(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) {
            long p = 1;
            for (long d : s) {
                p *= d;
            }
            n += p;
        }
        return n;
    }

    static void assertSameShapes(Map<String, long[]> want, Map<String, long[]> got) {
        assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()), "keys in registration order");
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k), got.get(k), k);
        }
    }

    @Test
    void parameterShapesAreTheModulesAndTheFixturesHeader(@TempDir Path dir) throws Exception {
        for (MochiConfig c : List.of(MochiTestModels.tiny(), new MochiConfig(2, 3, 4, 3, 12, 5, 7, 24, 6, 9))) {
            MochiModel model = new MochiModel(c);
            assertSameShapes(c.parameterShapes(), Weights.parameterShapes(model));
            assertEquals(count(c.parameterShapes()), c.parameterCount(), "count by arithmetic");
            assertEquals(c.parameterCount(), model.info().parameterCount());
        }
        try (Checkpoint ckpt = Checkpoint.open(MochiGoldenTest.checkpoint(dir.resolve("m")))) {
            MochiConfig c = MochiFamily.config(ckpt.config());
            Map<String, long[]> shapes = c.parameterShapes();
            assertEquals(ckpt.names(), shapes.keySet(), "every key of the fixture");
            for (String k : shapes.keySet()) {
                assertArrayEquals(ckpt.info(k).dims(), shapes.get(k), k);
            }
            assertEquals(16360, c.parameterCount(), "meta.json num_parameters");
        }
    }

    /**
     * genmo/mochi-1-preview: D = 24 x 128 = 3072, text width P = 1536, T5 width E = 4096, time features 256, 12
     * channels, patch 2, 48 blocks, SwiGLU hidden 8192 (video) and 4096 (text).
     * <pre>
     * patch_embed           3072*12*2*2 + 3072                 =       150,528
     * timestep_embedder     (256*3072 + 3072) + (3072^2 + 3072) =    10,229,760
     * pooler to_kv/q/out    (4096*8192 + 8192) + (4096^2 + 4096) + (4096*3072 + 3072) = 62,929,920
     * caption_proj          4096*1536 + 1536                   =     6,292,992
     * pos_frequencies       3*24*64                            =         4,608
     * norm_out, proj_out    (3072*6144 + 6144) + (3072*48 + 48) =    19,028,016
     *                                                   fixed   =    98,635,824
     * block 0..46: norm1 3072*12288+12288 = 37,761,024; norm1_context 3072*6144+6144 = 18,880,512;
     *   q/k norms 4*128 = 512; to_q/k/v 3*3072^2 = 28,311,552; add_q/k/v 3*1536*3072 = 14,155,776;
     *   to_out 3072^2+3072 = 9,440,256; to_add_out 3072*1536+1536 = 4,720,128; ff 3*3072*8192 = 75,497,472;
     *   ff_context 3*1536*4096 = 18,874,368                                    = 207,641,600 each
     * block 47 (context_pre_only): norm1 37,761,024; norm1_context.linear_1 4,720,128; 512; 28,311,552;
     *   14,155,776; 9,440,256; ff 75,497,472                                   = 169,886,720
     * total = 98,635,824 + 47 * 207,641,600 + 169,886,720                      = 10,027,677,744
     * </pre>
     */
    @Test
    void mochi1PreviewHasDiffusersParameterCount(@TempDir Path dir) throws Exception {
        DiffusersConfig config = DiffusersConfig.read(Fixtures.copy("/fixtures/configs/mochi-1-preview.json",
                dir.resolve("config.json")));
        ModelDescription d = new MochiFamily().describe(config);
        assertEquals(10_027_677_744L, d.parameterCount());
        MochiConfig c = MochiFamily.config(config);
        assertEquals(10_027_677_744L, c.parameterCount());
        assertEquals(10_027_677_744L, count(c.parameterShapes()));
        assertEquals(48, d.layout().size());
    }

    @Test
    void blocksAreJointWithTheLastContextPreOnly() {
        MochiConfig c = new MochiConfig(2, 24, 128, 48, 1536, 12, 12, 4096, 256, 256);
        for (int i = 0; i < 48; i++) {
            Block b = c.blockLayout().block(i);
            assertEquals(BlockGroup.JOINT, b.group());
            assertTrue(b.context(), "context stream in block " + i);
            EnumSet<BlockPart> want = i == 47 ? EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD)
                    : EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD, BlockPart.CONTEXT_ATTENTION,
                            BlockPart.CONTEXT_FEED_FORWARD);
            assertEquals(want, b.parts(), "parts of block " + i);
        }
        // cost from the shapes: the weights a video and a text token multiply with (modulation excluded)
        double d = 3072;
        double p = 1536;
        double video = 4 * d * d + 3 * d * 8192;
        assertEquals(video + 3 * p * d + d * p + 3 * p * 4096, c.blockLayout().block(0).cost());
        assertEquals(video + 3 * p * d, c.blockLayout().block(47).cost());
        assertTrue(c.blockLayout().block(47).cost() < c.blockLayout().block(0).cost());
    }

    @Test
    void badConfigsAreNamed(@TempDir Path dir) throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> MochiFamily.config(
                parse("{\"_class_name\": \"MochiTransformer3DModel\", \"activation_fn\": \"gelu\"}")));
        assertTrue(e.getMessage().contains("activation_fn is \"gelu\", expected \"swiglu\""), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> MochiFamily.config(
                parse("{\"_class_name\": \"MochiTransformer3DModel\", \"text_embed_dim\": 12}")));
        assertTrue(e.getMessage().contains("text_embed_dim is 12, expected a multiple of 8"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> MochiFamily.config(
                parse("{\"_class_name\": \"MochiTransformer3DModel\", \"attention_head_dim\": 7}")));
        assertTrue(e.getMessage().contains("attention_head_dim is 7, expected an even number"), e.getMessage());
        // a config that disagrees with the weights is refused naming the key, before anything is built
        Path ckpt = MochiGoldenTest.checkpoint(dir.resolve("m"));
        String json = Files.readString(ckpt.resolve("config.json")).replace("\"pooled_projection_dim\": 16",
                "\"pooled_projection_dim\": 24");
        Files.writeString(ckpt.resolve("config.json"), json);
        e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertTrue(e.getMessage().contains("pooled_projection_dim is 24"), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }

    private static DiffusersConfig parse(String json) throws CheckpointException {
        return DiffusersConfig.parse(json.getBytes(StandardCharsets.UTF_8), "config.json");
    }
}
