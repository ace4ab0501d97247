package io.ditcache.model.cogvideox;

import static io.ditcache.model.cogvideox.CogVideoXFixtures.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ModelLoader;
import io.ditcache.profile.ActivationCapture;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * diffusers' {@code CogVideoXTransformer3DModel} against its golden forwards: {@code cogvideox} (1.0, 3-D sin-cos
 * table, [B, F, C, H, W] with F = 2, and the unit test's F = 1 as {@code extra.unit_test.*}) and
 * {@code cogvideox_rope} (1.5: temporal patches, Linear patch embedding, RoPE as the pipeline passes it): the
 * output, every block's video K/V/attention and block output, and the text rows (add_k, add_v, a_ctx, out_ctx) as
 * the TEXT stream (max abs error 1e-4).
 */
class CogVideoXGoldenTest {
    private static final double TOL = 1e-4;
    /** Our capture names and the golden file's names for the same tensors. */
    private static final Map<String, String> CAPTURES = new LinkedHashMap<>();

    static {
        for (int b = 0; b < 2; b++) {
            for (String k : List.of("k", "v", "a", "out", "out_ctx")) {
                CAPTURES.put("block." + b + "." + k, "block." + b + "." + k);
            }
            CAPTURES.put("block." + b + ".ek", "block." + b + ".add_k");
            CAPTURES.put("block." + b + ".ev", "block." + b + ".add_v");
            CAPTURES.put("block." + b + ".ea", "block." + b + ".a_ctx");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cogvideox", "cogvideox_rope"})
    void diffusersForwardAndCapturesMatchGolden(String fixture, @TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint(fixture,
                dir.resolve("model")));
        assertEquals(2, model.layers());
        Path goldenFile = CogVideoXFixtures.copy(fixture + "/golden.safetensors", dir);
        Path inputs = writeInputs(goldenFile, "input.", model, dir.resolve("inputs.safetensors"));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                SafetensorsFile in = SafetensorsFile.open(inputs);
                PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT, SiteKind.BLOCK_OUT))) {
            Tensor out = model.forward(in, null, capture);
            double err = maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(out));
            assertEquals(golden.info("output.sample").shape(), List.of(Tensors.shape(out)[0], Tensors.shape(out)[1],
                    Tensors.shape(out)[2], Tensors.shape(out)[3], Tensors.shape(out)[4]));
            assertTrue(err <= TOL, fixture + " output.sample max abs err " + err);
            double worst = err;
            for (Map.Entry<String, String> e : CAPTURES.entrySet()) {
                Tensor got = capture.tensors().get(e.getKey());
                assertTrue(got != null, "no capture " + e.getKey() + " in " + capture.tensors().keySet());
                long[] s = Tensors.shape(got);
                assertEquals(golden.info(e.getValue()).shape(), List.of(s[0], s[1], s[2]), e.getValue() + " shape");
                double d = maxAbsDiff(golden.floats(e.getValue()), Tensors.toFloats(got));
                assertTrue(d <= TOL, fixture + " " + e.getValue() + " max abs err " + d);
                worst = Math.max(worst, d);
            }
            System.out.printf("%s golden: output max abs err %.2e, worst capture or output %.2e%n", fixture, err,
                    worst);
        }
    }

    /**
     * Every site of every block, both streams: K/V/attention (video and text), MLP_OUT, BLOCK_OUT and
     * BLOCK_RESIDUAL as video and text ({@code _ctx}), block 0's MODULATED_INPUT; each residual is the block's
     * output minus its input (the previous block's output, golden for block 1).
     */
    @Test
    void everySiteIsObservedInBothStreams(@TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint("cogvideox",
                dir.resolve("model")));
        Path goldenFile = CogVideoXFixtures.copy("cogvideox/golden.safetensors", dir);
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.allOf(SiteKind.class))) {
            model.forward(golden.load("input.hidden_states"), golden.load("input.timestep"),
                    golden.load("input.encoder_hidden_states"), null, Step.conditional(0, 1, 0, 2), capture);
            java.util.Set<String> names = capture.tensors().keySet();
            for (int b = 0; b < 2; b++) {
                for (String k : List.of("k", "v", "a", "ek", "ev", "ea", "mlp", "mlp_ctx", "out", "out_ctx",
                        "residual", "residual_ctx")) {
                    assertTrue(names.contains("block." + b + "." + k), "block." + b + "." + k + " in " + names);
                }
            }
            assertTrue(names.contains("block.0.modulated_input"), names.toString());
            assertTrue(!names.contains("block.1.modulated_input"), names.toString());
            // the video tokens after norm1: [B, F (H/p) (W/p), D]
            assertTrue(java.util.Arrays.equals(new long[] {2, 32, 16},
                    Tensors.shape(capture.tensors().get("block.0.modulated_input"))));
            for (String stream : List.of("", "_ctx")) {
                float[] out0 = golden.floats("block.0.out" + stream);
                float[] out1 = golden.floats("block.1.out" + stream);
                float[] res1 = Tensors.toFloats(capture.tensors().get("block.1.residual" + stream));
                float[] diff = new float[out1.length];
                for (int i = 0; i < diff.length; i++) {
                    diff[i] = out1[i] - out0[i];
                }
                double err = maxAbsDiff(diff, res1);
                assertTrue(err <= TOL, "block.1.residual" + stream + " max abs err " + err);
            }
        }
    }

    @Test
    void unitTestShapeWithOneFrameMatchesGolden(@TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint("cogvideox",
                dir.resolve("model")));
        Path goldenFile = CogVideoXFixtures.copy("cogvideox/golden.safetensors", dir);
        Path inputs = writeInputs(goldenFile, "extra.unit_test.input.", model, dir.resolve("in.safetensors"));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                SafetensorsFile in = SafetensorsFile.open(inputs);
                PointerScope scope = new PointerScope()) {
            Tensor out = model.forward(in, null, ActivationProbe.NONE);
            double err = maxAbsDiff(golden.floats("extra.unit_test.output.sample"), Tensors.toFloats(out));
            assertTrue(err <= TOL, "extra.unit_test.output.sample max abs err " + err);
            System.out.printf("cogvideox unit-test shape (F=1): output max abs err %.2e%n", err);
        }
    }

    @Test
    void sinCosTableMatchesDiffusers(@TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint("cogvideox",
                dir.resolve("model")));
        Path goldenFile = CogVideoXFixtures.copy("cogvideox/golden.safetensors", dir);
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            // [1, T + N, D] float64, text rows zero: our table is the video rows
            Tensor want = golden.load("aux.pos_embedding").to(ScalarType.Float).select(0, 0).narrow(0, 8, 32);
            Tensor got = CogVideoXPositions.sinCos(model.config(), 2, 4, 4);
            double err = maxAbsDiff(Tensors.toFloats(want), Tensors.toFloats(got));
            assertTrue(err <= 1e-6, "sin-cos table max abs err " + err);
        }
    }

    @Test
    void pipelineRopeMatchesTheTablesTheFixturePasses(@TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint("cogvideox_rope",
                dir.resolve("model")));
        Path goldenFile = CogVideoXFixtures.copy("cogvideox_rope/golden.safetensors", dir);
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            CogVideoXPositions.Rope rope = CogVideoXPositions.rope(model.config(), 2, 4, 4);
            double cos = maxAbsDiff(golden.floats("input.image_rotary_emb.cos"), Tensors.toFloats(rope.cos()));
            double sin = maxAbsDiff(golden.floats("input.image_rotary_emb.sin"), Tensors.toFloats(rope.sin()));
            assertTrue(cos <= 1e-6 && sin <= 1e-6, "rope cos err " + cos + ", sin err " + sin);
            // without image_rotary_emb the model computes the same tables itself
            Tensor x = golden.load("input.hidden_states");
            Tensor out = model.forward(x, golden.load("input.timestep"), golden.load("input.encoder_hidden_states"),
                    null, Step.conditional(0, 1, 0, 2), ActivationProbe.NONE);
            double err = maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(out));
            assertTrue(err <= TOL, "output with internal RoPE max abs err " + err);
        }
    }

    @Test
    void wrongInputsAreRefusedNamingWhatWasExpected(@TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint("cogvideox",
                dir.resolve("model")));
        Path goldenFile = CogVideoXFixtures.copy("cogvideox/golden.safetensors", dir);
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            Tensor x = golden.load("input.hidden_states");
            Tensor t = golden.load("input.timestep");
            Tensor ehs = golden.load("input.encoder_hidden_states");
            Step step = Step.conditional(0, 1, 0, 2);
            IllegalArgumentException layout = assertThrows(IllegalArgumentException.class, () ->
                    model.forward(x.permute(0, 2, 1, 3, 4).contiguous(), t, ehs, null, step, ActivationProbe.NONE));
            assertTrue(layout.getMessage().contains("[B, F, C, H, W]"), layout.getMessage());
            IllegalArgumentException text = assertThrows(IllegalArgumentException.class, () ->
                    model.forward(x, t, ehs.narrow(1, 0, 7), null, step, ActivationProbe.NONE));
            assertTrue(text.getMessage().contains("max_text_seq_length"), text.getMessage());
        }
        Map<String, Tensor> bad = new LinkedHashMap<>();
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            bad.put("hidden_states", golden.load("input.hidden_states"));
            bad.put("encoder_hidden_states", golden.load("input.encoder_hidden_states"));
            bad.put("timestep", golden.load("input.timestep"));
            bad.put("image_rotary_emb.cos", golden.load("input.hidden_states").reshape(32, -1));
            Path file = dir.resolve("bad.safetensors");
            SafetensorsWriter.write(file, bad, Map.of());
            try (SafetensorsFile in = SafetensorsFile.open(file)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(in, null, ActivationProbe.NONE));
                assertTrue(e.getMessage().contains("image_rotary_emb.sin"), e.getMessage());
            }
        }
    }

    /** The forward inputs under {@code prefix} in the golden file, written as diffusers names them. */
    private static Path writeInputs(Path goldenFile, String prefix, CogVideoXModel model, Path target)
            throws Exception {
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (String name : model.inputNames()) {
                in.put(name, golden.load(prefix + name).clone());
            }
            for (String name : model.optionalInputNames()) {
                if (golden.contains(prefix + name)) {
                    in.put(name, golden.load(prefix + name).clone());
                }
            }
            SafetensorsWriter.write(target, in, Map.of());
        }
        return target;
    }
}
