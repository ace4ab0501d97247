package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model loaded in bfloat16 holds its weights in bfloat16, takes and returns float32, and agrees with diffusers'
 * float32 output to bfloat16 precision; labels and unknown types are refused by name.
 */
class ComputeTypeTest {
    @TempDir
    Path tmp;

    @Test
    void bfloat16DiTHoldsHalfWeightsAndMatchesFloat32ToItsPrecision() throws IOException {
        Path dir = Fixtures.ditCheckpoint(tmp.resolve("dit"));
        Path goldenFile = Fixtures.copy("/fixtures/dit/golden.safetensors", tmp.resolve("golden.safetensors"));
        Denoiser bf16 = ModelLoader.load(dir, ComputeType.BFLOAT16);
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); InferenceMode mode = new InferenceMode();
                PointerScope scope = new PointerScope()) {
            for (Tensor w : bf16.stateDict().values()) {
                assertEquals(ScalarType.BFloat16, w.scalar_type().intern());
            }
            Tensor x = golden.load("input.hidden_states");
            Tensor t = golden.load("input.timestep");
            long[] labels = golden.longs("input.class_labels");
            Tensor out = ((io.ditcache.model.dit.DiTModel) bf16).forward(x, t, Tensors.fromLongs(labels,
                    labels.length), Step.conditional(0, 1, 0, 3), ActivationProbe.NONE);
            assertEquals(ScalarType.Float, out.scalar_type().intern());
            assertCloseToBfloat16(golden.floats("output.sample"), Tensors.toFloats(out));
        }
    }

    /**
     * Each family loaded in bfloat16 runs diffusers' forward on the fixture's inputs and agrees with the float32
     * golden output to bfloat16 precision (and not exactly: it really computes in bfloat16).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"sd3", "sd35", "pixart", "flux",
        "diffusers-video/mochi", "diffusers-video/latte", "diffusers-video/cogvideox",
        "diffusers-video/cogvideox_rope"})
    void bfloat16FamiliesMatchTheirGoldenOutputToItsPrecision(String fixture) throws IOException {
        // a name with a folder is a fixture of that folder under /fixtures (the video families)
        String base = fixture.contains("/") ? "/fixtures/" + fixture : "/fixtures/diffusers/" + fixture;
        fixture = fixture.replace('/', '-');
        Path dir = tmp.resolve(fixture);
        Fixtures.copy(base + "/config.json", dir.resolve("config.json"));
        Fixtures.copy(base + "/model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        Path goldenFile = Fixtures.copy(base + "/golden.safetensors", tmp.resolve(fixture + "-golden.safetensors"));
        Denoiser model = ModelLoader.load(dir, ComputeType.BFLOAT16);
        Path inputs = tmp.resolve(fixture + "-inputs.safetensors");
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            java.util.Map<String, Tensor> in = new java.util.LinkedHashMap<>();
            for (String name : golden.names()) {
                if (name.startsWith("input.")) {
                    in.put(name.substring("input.".length()), golden.load(name));
                }
            }
            io.ditcache.io.SafetensorsWriter.write(inputs, in, java.util.Map.of());
        }
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); SafetensorsFile in = SafetensorsFile.open(
                inputs); InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            Tensor out = ((DiffusersForward) model).forward(in, null, ActivationProbe.NONE);
            assertEquals(ScalarType.Float, out.scalar_type().intern());
            assertCloseToBfloat16(golden.floats("output.sample"), Tensors.toFloats(out));
        }
    }

    static void assertCloseToBfloat16(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        // bfloat16 keeps 8 bits of mantissa: 2^-8 relative per op, a few ops deep
        assertTrue(worst < 0.05 * scale, "bf16 error " + worst + " of scale " + scale);
        assertTrue(worst > 1e-6, "the bf16 model really computes in bf16 (error " + worst + ")");
    }

    @Test
    void labelsParseAndUnknownOnesAreNamed() {
        assertEquals(ComputeType.BFLOAT16, ComputeType.parse("bf16"));
        assertEquals(ComputeType.FLOAT32, ComputeType.parse("Float32"));
        assertEquals(ComputeType.FLOAT16, ComputeType.parse("fp16"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeType.parse("int8"));
        assertEquals("compute dtype \"int8\", expected one of [float32, bfloat16, float16]", e.getMessage());
    }
}
