package io.ditcache.model.opensora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.layers.Weights;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** STDiT3's config: its parameter arithmetic against the module and the published size, its layout, its JSON. */
class STDiT3ConfigTest {
    /**
     * STDiT3-XL/2 (hidden 1152, depth 28, 16 heads of 72, mlp 4, 4 latent channels, patch 1x2x2, T5 4096, pred
     * sigma, qk_norm) by hand from Open-Sora's module tree, d = 1152:
     * rope.freqs 36; x_embedder 1152*4*4 + 1152 = 19,584; t_embedder and fps_embedder (256+1)*d + (d+1)*d =
     * 1,624,320 each; t_block (d+1)*6d = 7,969,536; y_embedder.y_proj (4096+1)*d + (d+1)*d = 6,048,000;
     * final_layer 2d + (d+1)*32 = 39,200; together 17,324,996. One block: scale_shift_table 6d = 6,912, attn.qkv
     * (d+1)*3d = 3,984,768, q_norm + k_norm 144, attn.proj 1,328,256, cross_attn q_linear 1,328,256, kv_linear
     * (d+1)*2d = 2,656,512, proj 1,328,256, mlp.fc1 (d+1)*4608 = 5,313,024, fc2 (4608+1)*d = 5,309,568: 21,255,696;
     * 56 blocks 1,190,318,976. Total 1,207,643,972 parameters (Open-Sora's report rounds STDiT3-XL/2 to 1.1B);
     * the null caption buffer y_embedding (300 x 4096 = 1,228,800) is not a parameter.
     */
    @Test
    void stdit3Xl2HasThePublishedParameterCount() {
        STDiT3Config xl = STDiT3Config.xl2();
        assertEquals(1_207_643_972L, xl.parameterCount());
        assertEquals(21_255_696L, xl.blockParameterCount());
        long sum = xl.parameterShapes().values().stream().mapToLong(s -> {
            long n = 1;
            for (long d : s) {
                n *= d;
            }
            return n;
        }).sum();
        assertEquals(xl.parameterCount(), sum);
        assertEquals(56 * 17 + 20, xl.parameterShapes().size()); // 17 tensors a block, 20 outside
    }

    @Test
    void parameterShapesAreTheModulesInRegistrationOrder() {
        for (boolean qk : new boolean[] {true, false}) {
            STDiT3Config c = new STDiT3Config(new long[] {2, 4, 6}, 64, 3, new int[] {1, 2, 2}, 24, 3, 3, 1.5, qk,
                    8, 4, qk, 0.1);
            STDiT3Model model = new STDiT3Model(c);
            Map<String, long[]> want = c.parameterShapes();
            Map<String, long[]> got = Weights.parameterShapes(model);
            assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()));
            want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
            assertEquals(c.parameterCount(), model.info().parameterCount());
            assertEquals(new ArrayList<>(c.stateShapes().keySet()), new ArrayList<>(model.stateDict().keySet()));
        }
    }

    @Test
    void layoutAlternatesSpatialAndTemporalBlocks() {
        STDiT3Config c = STDiT3TestModels.tiny();
        BlockLayout layout = c.blockLayout();
        assertEquals(2 * c.depth(), layout.size());
        for (int i = 0; i < layout.size(); i++) {
            Block b = layout.block(i);
            assertEquals(i % 2 == 0 ? BlockGroup.SPATIAL : BlockGroup.TEMPORAL, b.group(), "block " + i);
            assertEquals(Set.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION, BlockPart.FEED_FORWARD),
                    b.parts());
            double d = c.hiddenSize();
            assertEquals(6 * d * d + 2 * d * c.mlpHidden(), b.cost(), 1e-9);
        }
    }

    @Test
    void configJsonRoundTripsThroughTheRegisteredFamily() throws Exception {
        STDiT3Config c = STDiT3TestModels.tiny();
        String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(c.diffusersConfig());
        DiffusersConfig parsed = DiffusersConfig.parse(json.getBytes(StandardCharsets.UTF_8), "config.json");
        assertEquals(c, STDiT3Family.config(parsed));
        ModelDescription d = ModelLoader.describe(parsed);
        assertEquals(STDiT3Config.CLASS_NAME, d.className());
        assertEquals(List.copyOf(c.parameterShapes().keySet()), List.copyOf(d.parameters().keySet()));
        String openSora = "{\"_class_name\": \"STDiT3\", \"input_size\": [null, null, null], \"depth\": 28,"
                + " \"hidden_size\": 1152, \"num_heads\": 16, \"patch_size\": [1, 2, 2], \"qk_norm\": true}";
        STDiT3Config xl = STDiT3Family.config(DiffusersConfig.parse(openSora.getBytes(StandardCharsets.UTF_8),
                "config.json"));
        assertEquals(STDiT3Config.xl2().parameterCount(), xl.parameterCount());
        CheckpointException e = assertThrows(CheckpointException.class, () -> STDiT3Family.config(
                DiffusersConfig.parse("{\"_class_name\": \"STDiT3\", \"hidden_size\": 30, \"num_heads\": 4}"
                        .getBytes(StandardCharsets.UTF_8), "config.json")));
        assertTrue(e.getMessage().startsWith("config.json: hidden_size 30"), e.getMessage());
    }
}
