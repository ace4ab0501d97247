package io.ditcache.model.opensora;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A config.json that disagrees with its weights, or a model too large for memory, is refused before loading. */
class STDiT3FamilyTest {
    private static Path saved(Path dir, String from, String to) throws Exception {
        CheckpointWriter.save(STDiT3TestModels.random(STDiT3TestModels.tiny(), 41), dir, Map.of());
        Path config = dir.resolve("config.json");
        String json = Files.readString(config);
        assertTrue(json.contains(from), json);
        Files.writeString(config, json.replace(from, to));
        return dir;
    }

    @Test
    void configDisagreeingWithTheWeightsIsRefusedByKey(@TempDir Path dir) throws Exception {
        CheckpointException depth = assertThrows(CheckpointException.class,
                () -> ModelLoader.load(saved(dir.resolve("a"), "\"depth\" : 2", "\"depth\" : 3")));
        assertTrue(depth.getMessage().contains("depth is 3, but") && depth.getMessage().contains("spatial_blocks."),
                depth.getMessage());
        CheckpointException caption = assertThrows(CheckpointException.class, () -> ModelLoader.load(saved(
                dir.resolve("b"), "\"caption_channels\" : 16", "\"caption_channels\" : 20")));
        assertTrue(caption.getMessage().contains("caption_channels is 20")
                && caption.getMessage().contains("y_embedder.y_proj.fc1.weight"), caption.getMessage());
        CheckpointException qk = assertThrows(CheckpointException.class, () -> ModelLoader.load(saved(
                dir.resolve("c"), "\"qk_norm\" : true", "\"qk_norm\" : false")));
        assertTrue(qk.getMessage().contains("unexpected keys") && qk.getMessage().contains("q_norm"),
                qk.getMessage());
    }

    @Test
    void aModelTooLargeForMemoryIsRefusedBeforeAllocating(@TempDir Path dir) throws Exception {
        Path d = saved(dir, "\"depth\" : 2", "\"depth\" : 2");
        try (Checkpoint c = Checkpoint.open(d)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> ModelLoader.load(c, new MemoryBudget(1L << 30, 10_000),
                            io.ditcache.model.ComputeType.FLOAT32));
            assertTrue(e.getMessage().contains("of float32 weights"), e.getMessage());
        }
    }
}
