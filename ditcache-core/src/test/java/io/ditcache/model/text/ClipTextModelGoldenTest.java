package io.ditcache.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ComputeType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture CLIPTextModelWithProjection (transformers 5.18, random weights with perturbed LayerNorms and biases)
 * against transformers' outputs for three prompts, one truncated: last_hidden_state, text_embeds,
 * hidden_states_penultimate and pooler_output.
 */
class ClipTextModelGoldenTest {
    static final double FLOAT32_TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @Test
    void float32MatchesTransformers() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden("clip", tmp));
                PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TextEncoder clip = TextEncoders.load(dir, ComputeType.FLOAT32);
            assertEquals("CLIPTextModelWithProjection", clip.className());
            assertEquals(77, clip.maxLength());
            TextEncoderOutput out = clip.forward(golden.load("input_ids"), null);
            Map<String, Tensor> named = out.named();
            assertEquals(4, named.size());
            for (Map.Entry<String, Tensor> e : named.entrySet()) {
                Tensor want = golden.load(e.getKey());
                assertArrayEquals(Tensors.shape(want), Tensors.shape(e.getValue()), e.getKey());
                double err = TextFixtures.maxAbs(e.getValue(), want);
                System.out.printf("clip float32 %s max abs error %.3g%n", e.getKey(), err);
                assertTrue(err <= FLOAT32_TOLERANCE, e.getKey() + " max abs error " + err);
            }
            // an attention mask of the tokens (1) and the padding after end-of-text (0) changes no token's state:
            // the causal mask already hides later positions; only the padding positions' own states change
            Tensor ids = golden.load("input_ids");
            Tensor mask = ids.ne(new org.bytedeco.pytorch.Scalar(663L)).to(org.bytedeco.pytorch.global.torch
                    .ScalarType.Long);
            mask.select(1, 0).fill_(new org.bytedeco.pytorch.Scalar(1L));
            long[] m = Tensors.toLongs(mask);
            for (int i = 0; i < 3; i++) {
                int eos = (int) java.util.Arrays.stream(m, i * 77, i * 77 + 77).sum();
                m[i * 77 + eos] = 1;
            }
            TextEncoderOutput masked = clip.forward(ids, Tensors.fromLongs(m, 3, 77));
            assertTrue(TextFixtures.maxAbs(masked.poolerOutput(), out.poolerOutput()) < 1e-6);
            assertTrue(TextFixtures.maxAbs(masked.lastHiddenState().narrow(1, 0, 22), out.lastHiddenState()
                    .narrow(1, 0, 22)) < 1e-6);
            assertTrue(TextFixtures.maxAbs(masked.lastHiddenState(), out.lastHiddenState()) > 1e-3);
            TextEncoderOutput ones = clip.forward(ids, Tensors.fromLongs(new long[3 * 77], 3, 77).add(
                    new org.bytedeco.pytorch.Scalar(1L)));
            assertTrue(TextFixtures.maxAbs(ones.lastHiddenState(), out.lastHiddenState()) < 1e-6);
        }
    }

    /** The published configs' legacy eos_token_id 2 pools at the highest id: the fixture's eos is its highest. */
    @Test
    void legacyEosIdPoolsAtTheHighestId() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"eos_token_id\": 663", "\"eos_token_id\": 2"));
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden("clip", tmp));
                PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TextEncoderOutput out = TextEncoders.load(dir, ComputeType.FLOAT32).forward(golden.load("input_ids"), null);
            assertTrue(TextFixtures.maxAbs(out.poolerOutput(), golden.load("pooler_output")) <= FLOAT32_TOLERANCE);
            assertTrue(TextFixtures.maxAbs(out.textEmbeds(), golden.load("text_embeds")) <= FLOAT32_TOLERANCE);
        }
    }

    /** Loaded as CLIPTextModel (FLUX's text_encoder), the projection is not read and no text_embeds come out. */
    @Test
    void withoutProjection() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"CLIPTextModelWithProjection\"",
                "\"CLIPTextModel\""));
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden("clip", tmp));
                PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TextEncoder clip = TextEncoders.load(dir, ComputeType.FLOAT32);
            assertEquals("CLIPTextModel", clip.className());
            TextEncoderOutput out = clip.forward(golden.load("input_ids"), null);
            assertNull(out.textEmbeds());
            assertTrue(TextFixtures.maxAbs(out.poolerOutput(), golden.load("pooler_output")) <= FLOAT32_TOLERANCE);
            assertEquals(clip.parameterCount() + 16 * 32, TextEncoders.describe(io.ditcache.io.DiffusersConfig.read(
                    TextFixtures.folder("clip", tmp.resolve("again")).resolve("config.json"))).parameterCount());
        }
    }

    @Test
    void halfPrecisionsAreClose() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden("clip", tmp))) {
            for (ComputeType type : new ComputeType[] {ComputeType.BFLOAT16, ComputeType.FLOAT16}) {
                try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
                    TextEncoder clip = TextEncoders.load(dir, type);
                    assertEquals(type, clip.computeType());
                    assertEquals(type.scalarType(), clip.stateDict().get("text_projection.weight").scalar_type()
                            .intern());
                    TextEncoderOutput out = clip.forward(golden.load("input_ids"), null);
                    for (Map.Entry<String, Tensor> e : out.named().entrySet()) {
                        Tensor want = golden.load(e.getKey());
                        double err = TextFixtures.maxAbs(e.getValue(), want);
                        double scale = want.abs().max().item_double();
                        System.out.printf("clip %s %s max abs error %.3g (outputs up to %.3g)%n", type.label(),
                                e.getKey(), err, scale);
                        assertTrue(err <= (type == ComputeType.BFLOAT16 ? 0.1 : 0.02) * Math.max(1, scale),
                                type.label() + " " + e.getKey() + " max abs error " + err);
                    }
                }
            }
        }
    }
}
