package io.ditcache.model.flux;

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

/** FLUX configs: parameter shapes by arithmetic against the module and the weights, layout, checks. */
class FluxConfigTest {
    private static final String TINY = "{\"_class_name\": \"FluxTransformer2DModel\", \"in_channels\": 4, "
            + "\"num_layers\": 2, \"num_single_layers\": 1, \"num_attention_heads\": 2, \"attention_head_dim\": 16, "
            + "\"joint_attention_dim\": 24, \"pooled_projection_dim\": 8, \"guidance_embeds\": true, "
            + "\"axes_dims_rope\": [4, 4, 8]}";

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
        for (String extra : List.of("", ", \"guidance_embeds\": false", ", \"out_channels\": 8",
                ", \"num_single_layers\": 0")) {
            FluxConfig c = FluxFamily.config(config(extra));
            Map<String, long[]> arithmetic = c.parameterShapes();
            Map<String, long[]> module = Weights.parameterShapes(new FluxModel(c));
            assertEquals(new ArrayList<>(module.keySet()), new ArrayList<>(arithmetic.keySet()), extra);
            module.forEach((k, v) -> assertArrayEquals(v, arithmetic.get(k), k));
            long count = module.values().stream().mapToLong(s -> java.util.Arrays.stream(s).reduce(1,
                    Math::multiplyExact)).sum();
            assertEquals(count, c.parameterCount());
        }
    }

    @Test
    void shapesAreTheFixtureCheckpoints(@TempDir Path dir) throws Exception {
        Path ckpt = FluxFixtures.checkpoint(dir);
        FluxConfig c = FluxFamily.config(DiffusersConfig.read(ckpt.resolve("config.json")));
        try (SafetensorsFile f = SafetensorsFile.open(ckpt.resolve("diffusion_pytorch_model.safetensors"))) {
            Map<String, long[]> shapes = c.parameterShapes();
            assertEquals(f.names(), shapes.keySet());
            shapes.forEach((k, v) -> assertArrayEquals(f.info(k).dims(), v, k));
        }
        assertEquals(68484, c.parameterCount()); // meta.json's num_parameters
        assertEquals(c.parameterCount(), ModelLoader.load(ckpt).info().parameterCount());
    }

    @Test
    void flux1DevDescribedWithoutAllocating(@TempDir Path dir) throws Exception {
        DiffusersConfig dev = DiffusersConfig.read(FluxFixtures.copy("flux1-dev.json", dir));
        ModelDescription d = new FluxFamily().describe(dev);
        assertEquals(11_901_408_320L, d.parameterCount());
        assertEquals(FluxConfig.CLASS_NAME, d.className());
        BlockLayout layout = d.layout();
        assertEquals(57, layout.size());
        double width = 3072;
        for (Block b : layout.blocks()) {
            boolean dbl = b.index() < 19;
            assertEquals(dbl ? BlockGroup.DOUBLE : BlockGroup.SINGLE, b.group(), "block " + b.index());
            assertEquals(dbl, b.context());
            assertTrue(b.residual());
            assertEquals(dbl ? EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION,
                    BlockPart.FEED_FORWARD, BlockPart.CONTEXT_FEED_FORWARD)
                    : EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD), b.parts());
            // per token: q, k, v, out and a 4x feed-forward (double, one stream's half); q, k, v, a 4x MLP and the
            // 5d -> d fused projection (single)
            assertEquals(12 * width * width, b.cost(), 1e-6 * b.cost(), "block " + b.index());
        }
        assertEquals(d.parameters().keySet().iterator().next(), "time_text_embed.timestep_embedder.linear_1.weight");
        assertTrue(d.parameters().containsKey("time_text_embed.guidance_embedder.linear_2.bias"));
    }

    @Test
    void badConfigsNameFileKeyAndValue() {
        assertRefused(", \"axes_dims_rope\": [4, 4, 4]", "tiny/config.json", "axes_dims_rope", "[4, 4, 4]", "12",
                "attention_head_dim is 16");
        assertRefused(", \"axes_dims_rope\": [5, 3, 8]", "axes_dims_rope", "5", "even");
        assertRefused(", \"patch_size\": 2", "patch_size is 2", "expected 1");
        assertRefused(", \"num_layers\": 0", "num_layers is 0");
        assertRefused(", \"num_single_layers\": -1", "num_single_layers is -1");
        assertRefused(", \"num_attention_heads\": 0", "num_attention_heads is 0");
        assertRefused(", \"pooled_projection_dim\": -3", "pooled_projection_dim is -3");
        assertRefused(", \"num_attention_heads\": 20000000, \"attention_head_dim\": 16, \"axes_dims_rope\": [16]",
                "num_attention_heads 20000000", "too wide");
    }

    private static void assertRefused(String extra, String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> FluxFamily.config(config(extra)));
        assertTrue(e.getMessage().startsWith("tiny/config.json: "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void configThatDisagreesWithTheWeightsIsRefusedBeforeBuilding(@TempDir Path dir) throws Exception {
        Path ckpt = FluxFixtures.checkpoint(dir);
        String json = Files.readString(ckpt.resolve("config.json"));
        for (String[] c : new String[][] {
            {"\"num_layers\": 1", "\"num_layers\": 2", "num_layers is 2", "holds 1 blocks transformer_blocks.N"},
            {"\"num_single_layers\": 1", "\"num_single_layers\": 3", "num_single_layers is 3"},
            {"\"joint_attention_dim\": 32", "\"joint_attention_dim\": 64", "joint_attention_dim 64",
                "context_embedder.weight", "[32, 32]", "[32, 64]"},
            {"\"guidance_embeds\": false", "\"guidance_embeds\": true", "guidance_embeds is true",
                "time_text_embed.guidance_embedder.linear_1.weight"},
            {"\"pooled_projection_dim\": 32", "\"pooled_projection_dim\": 16", "pooled_projection_dim 16"}}) {
            Files.writeString(ckpt.resolve("config.json"), json.replace(c[0], c[1]));
            try (Checkpoint cp = Checkpoint.open(ckpt)) {
                CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(cp));
                assertTrue(e.getMessage().contains("config.json"), e.getMessage());
                for (int i = 2; i < c.length; i++) {
                    assertTrue(e.getMessage().contains(c[i]), "'" + c[i] + "' in: " + e.getMessage());
                }
            }
        }
    }
}
