package io.ditcache.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ComputeType;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture T5EncoderModel (v1.1: gated GELU, RMS norms with perturbed weights, 32 buckets) against
 * transformers' last_hidden_state for three prompts, without the attention mask (as FLUX and SD3 run it) and with
 * it (as PixArt does).
 */
class T5EncoderGoldenTest {
    static final double FLOAT32_TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @Test
    void float32MatchesTransformers() throws Exception {
        Path dir = TextFixtures.folder("t5", tmp.resolve("t5"));
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden("t5", tmp));
                PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TextEncoder t5 = TextEncoders.load(dir, ComputeType.FLOAT32);
            assertEquals("T5EncoderModel", t5.className());
            Tensor ids = golden.load("input_ids");
            Tensor unmasked = t5.forward(ids, null).lastHiddenState();
            Tensor masked = t5.forward(ids, golden.load("attention_mask")).lastHiddenState();
            assertEquals(1, t5.forward(ids, null).named().size());
            Tensor want = golden.load("last_hidden_state");
            Tensor wantMasked = golden.load("last_hidden_state_masked");
            assertArrayEquals(Tensors.shape(want), Tensors.shape(unmasked));
            double err = TextFixtures.maxAbs(unmasked, want);
            double errMasked = TextFixtures.maxAbs(masked, wantMasked);
            System.out.printf("t5 float32 last_hidden_state max abs error %.3g, masked %.3g%n", err, errMasked);
            assertTrue(err <= FLOAT32_TOLERANCE, "last_hidden_state max abs error " + err);
            assertTrue(errMasked <= FLOAT32_TOLERANCE, "last_hidden_state_masked max abs error " + errMasked);
            // the mask matters: padding attended or not gives different states
            assertTrue(TextFixtures.maxAbs(unmasked, masked) > 0.1);
        }
    }

    @Test
    void halfPrecisionsAreClose() throws Exception {
        Path dir = TextFixtures.folder("t5", tmp.resolve("t5"));
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden("t5", tmp))) {
            for (ComputeType type : new ComputeType[] {ComputeType.BFLOAT16, ComputeType.FLOAT16}) {
                try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
                    TextEncoder t5 = TextEncoders.load(dir, type);
                    assertEquals(type.scalarType(), t5.stateDict().get("shared.weight").scalar_type().intern());
                    Tensor ids = golden.load("input_ids");
                    for (boolean withMask : new boolean[] {false, true}) {
                        Tensor got = t5.forward(ids, withMask ? golden.load("attention_mask") : null)
                                .lastHiddenState();
                        Tensor want = golden.load(withMask ? "last_hidden_state_masked" : "last_hidden_state");
                        double err = TextFixtures.maxAbs(got, want);
                        double scale = want.abs().max().item_double();
                        System.out.printf("t5 %s %s max abs error %.3g (outputs up to %.3g)%n", type.label(),
                                withMask ? "masked" : "unmasked", err, scale);
                        assertTrue(err <= (type == ComputeType.BFLOAT16 ? 0.1 : 0.02) * Math.max(1, scale),
                                type.label() + " max abs error " + err);
                    }
                }
            }
        }
    }
}
