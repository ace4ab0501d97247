package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes in config.json are checked against the weights' header and against memory before a model is built: a
 * hostile config is refused at once, naming the file, the key and the bytes, instead of building until memory
 * runs out.
 */
class ModelLoaderBoundsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration QUICK = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /** The fixture checkpoint with config.json edited. */
    private Path checkpoint(Consumer<ObjectNode> edit) throws IOException {
        Path ckpt = Fixtures.ditCheckpoint(dir.resolve("dit"));
        ObjectNode config = (ObjectNode) JSON.readTree(ckpt.resolve("config.json").toFile());
        edit.accept(config);
        Files.writeString(ckpt.resolve("config.json"), JSON.writeValueAsString(config));
        return ckpt;
    }

    private CheckpointException refused(Consumer<ObjectNode> edit) throws IOException {
        Path ckpt = checkpoint(edit);
        CheckpointException e = assertTimeoutPreemptively(QUICK,
                () -> assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt)));
        String m = e.getMessage();
        assertTrue(m.startsWith(ckpt.resolve("config.json").toString()), m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return e;
    }

    @Test
    void aBillionLayersAreRefusedBeforeAnyBlockIsBuilt() throws IOException {
        String m = refused(c -> c.put("num_layers", 1_000_000_000)).getMessage();
        assertTrue(m.contains("num_layers 1000000000"), m);
        assertTrue(m.matches(".*\\d+ bytes.*"), "names the bytes: " + m);
        assertTrue(m.contains("more than this machine's physical memory"), m);
    }

    @Test
    void layersTheWeightsDoNotHoldAreNamed() throws IOException {
        String m = refused(c -> c.put("num_layers", 6)).getMessage();
        assertTrue(m.contains("num_layers is 6, but") && m.contains("holds 4 blocks transformer_blocks.N "
                + "(transformer_blocks.0 to transformer_blocks.3)"), m);
    }

    @Test
    void headsTimesHeadDimOverflowingIntIsNamed() throws IOException {
        String m = refused(c -> c.put("num_attention_heads", 65536).put("attention_head_dim", 65536)).getMessage();
        assertTrue(m.contains("num_attention_heads 65536 x attention_head_dim 65536 = 4294967296 overflows"), m);
    }

    @Test
    void aMillionPixelSampleSizeIsRefusedNamingKeyAndBytes() throws IOException {
        String m = refused(c -> c.put("sample_size", 1_000_000)).getMessage();
        assertTrue(m.contains("sample_size 1000000"), m);
        assertTrue(m.contains("32000000000000 bytes"), "250000000000 tokens x 32 floats x 4 bytes: " + m);
    }

    @Test
    void twoBillionClassesAreRefusedNamingTheKey() throws IOException {
        String m = refused(c -> c.put("num_embeds_ada_norm", 2_000_000_000)).getMessage();
        assertTrue(m.contains("num_embeds_ada_norm"), m);
        assertTrue(m.contains("bytes") || m.contains("embedding_table.weight"), m);
    }

    @Test
    void everySizeKeyTheWeightsRecordIsComparedWithTheHeader() throws IOException {
        assertTrue(refused(c -> c.put("num_embeds_ada_norm", 12)).getMessage().contains(
                "num_embeds_ada_norm is 12, but tensor transformer_blocks.0.norm1.emb.class_embedder"
                        + ".embedding_table.weight"));
        assertTrue(refused(c -> c.put("in_channels", 3)).getMessage().contains("in_channels is 3, but tensor "
                + "pos_embed.proj.weight"));
        assertTrue(refused(c -> c.put("patch_size", 4)).getMessage().contains("patch_size is 4, but tensor "
                + "pos_embed.proj.weight"));
        assertTrue(refused(c -> c.put("out_channels", 4)).getMessage().contains("out_channels is 4, but tensor "
                + "proj_out_2.weight"));
        String heads = refused(c -> c.put("num_attention_heads", 4)).getMessage();
        assertTrue(heads.contains("num_attention_heads 4 x attention_head_dim 16 = 64, but tensor "
                + "pos_embed.proj.weight") && heads.contains("config.json implies [64, 4, 2, 2]"), heads);
        assertTrue(refused(c -> c.put("attention_bias", false)).getMessage().contains("attention_bias is false"));
    }

    @Test
    void integersBeyondIntAreRefusedAsSuch() throws IOException {
        String m = refused(c -> c.put("num_layers", 10_000_000_000L)).getMessage();
        assertTrue(m.contains("'num_layers' is a number (10000000000), expected an integer from -2147483648 to "
                + "2147483647"), m);
    }

    @Test
    void aModelBeyondTheMemoryBudgetIsRefusedBeforeBuilding() throws IOException {
        Path ckpt = Fixtures.ditCheckpoint(dir.resolve("dit"));
        try (Checkpoint c = Checkpoint.open(ckpt)) {
            CheckpointException native_ = assertThrows(CheckpointException.class,
                    () -> ModelLoader.load(c, new MemoryBudget(1L << 30, 100_000)));
            assertTrue(native_.getMessage().contains("more than this machine's physical memory of 100000 bytes"),
                    native_.getMessage());
            assertTrue(native_.getMessage().contains("num_layers 4 x "), native_.getMessage());
            CheckpointException heap = assertThrows(CheckpointException.class,
                    () -> ModelLoader.load(c, new MemoryBudget(1000, 1L << 40)));
            assertTrue(heap.getMessage().contains("more than the JVM's max heap of 1000 bytes"), heap.getMessage());
            assertEquals(4, ModelLoader.load(c, MemoryBudget.ofThisMachine()).layers());
        }
    }

    @Test
    void parameterShapesAreComputedExactlyAsTheModelRegistersThem() {
        for (boolean bias : new boolean[] {true, false}) {
            DiTConfig config = new DiTConfig(8, 2, 4, 8, 3, 2, 16, 10, 1e-5, bias);
            Map<String, long[]> built = new DiTModel(config).parameterShapes();
            Map<String, long[]> computed = config.parameterShapes();
            assertEquals(new ArrayList<>(built.keySet()), new ArrayList<>(computed.keySet()), "keys in order");
            long count = 0;
            for (Map.Entry<String, long[]> e : built.entrySet()) {
                assertArrayEquals(e.getValue(), computed.get(e.getKey()), e.getKey());
                long n = 1;
                for (long d : e.getValue()) {
                    n *= d;
                }
                count += n;
            }
            assertEquals(count, config.parameterCount(), "parameterCount, bias " + bias);
        }
        assertEquals(-1, new DiTConfig(2, 1, 1, 1, Integer.MAX_VALUE, 1, 4, Integer.MAX_VALUE - 1, 1e-5, true)
                .parameterCount(), "overflow is reported, not wrapped");
    }
}
