package io.ditcache.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ComputeType;
import io.ditcache.model.layers.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * T5's relative position buckets beyond the fixture's 32 tokens (the log-spaced range up to max_distance and the
 * last bucket past it), and an encoder whose inner dim (heads x d_kv) differs from d_model.
 */
class T5PositionsTest {
    @TempDir
    Path tmp;

    /**
     * 32 buckets, max distance 128 (T5's): 16 per direction, distances below 8 exact, then
     * {@code 8 + floor(log(d / 8) / log(16) * 8)}: 16 -> 10, 32 -> 12, 64 -> 14, 128 and beyond -> 15.
     */
    @Test
    void bucketsAsTransformersComputesThem() {
        try (PointerScope scope = new PointerScope()) {
            long[] relative = {0, -1, 1, -7, 7, -8, 8, -16, 16, -32, 32, -64, 64, -127, -128, 1000, -1000};
            long[] want = {0, 1, 17, 7, 23, 8, 24, 10, 26, 12, 28, 14, 30, 15, 15, 31, 15};
            Tensor got = T5Encoder.buckets(Tensors.fromLongs(relative, relative.length), 32, 128);
            assertArrayEquals(want, Tensors.toLongs(got));
        }
    }

    /** inner dim 40 (4 heads x d_kv 10) beside d_model 48; 160 tokens, past max_distance 128. */
    @Test
    void innerDimOtherThanDModel() throws Exception {
        T5EncoderConfig c = new T5EncoderConfig(64, 48, 10, 20, 2, 4, 32, 128, 1e-6, true, "gelu_new");
        Path dir = Files.createDirectories(tmp.resolve("t5"));
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"T5EncoderModel\"], \"model_type\": "
                + "\"t5\", \"vocab_size\": 64, \"d_model\": 48, \"d_kv\": 10, \"d_ff\": 20, \"num_layers\": 2, "
                + "\"num_heads\": 4, \"feed_forward_proj\": \"gated-gelu\"}");
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            T5Encoder random = new T5Encoder(c, ComputeType.FLOAT32);
            Map<String, Tensor> weights = Weights.stateDict(random);
            assertEquals(c.parameterShapes().keySet(), weights.keySet());
            SafetensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of());
            TextEncoder t5 = TextEncoders.load(dir, ComputeType.FLOAT32);
            long[] ids = new long[2 * 160];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7) % 64;
            }
            Tensor input = Tensors.fromLongs(ids, 2, 160);
            Tensor out = t5.forward(input, null).lastHiddenState();
            assertArrayEquals(new long[] {2, 160, 48}, Tensors.shape(out));
            assertTrue(out.isfinite().all().item_bool());
            // the same weights built afresh give the same states: loading copied every tensor
            assertTrue(TextFixtures.maxAbs(random.forward(input, null).lastHiddenState(), out) == 0.0);
        }
    }
}
