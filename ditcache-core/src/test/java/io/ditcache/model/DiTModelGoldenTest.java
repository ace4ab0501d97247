package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.profile.ActivationCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DiT forward and every captured K/V/A against diffusers' golden tensors (max abs error 1e-4). */
class DiTModelGoldenTest {
    static final double TOL = 1e-4;

    static double maxAbsDiff(float[] want, float[] got) {
        assertEquals(want.length, got.length, "element count");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }

    @Test
    void forwardAndCapturesMatchDiffusers(@TempDir Path dir) throws Exception {
        Path ckpt = Fixtures.ditCheckpoint(dir.resolve("dit"));
        Path goldenFile = Fixtures.copy("/fixtures/dit/golden.safetensors", dir.resolve("golden.safetensors"));
        DiTModel model = (DiTModel) ModelLoader.load(ckpt);
        assertEquals(4, model.layers());
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT, SiteKind.BLOCK_OUT))) {
            Tensor x = golden.load("input.hidden_states");
            Tensor t = golden.load("input.timestep");
            Tensor y = golden.load("input.class_labels");
            Tensor out = model.forward(x, t, y, Step.conditional(0, 1, 0, 3), capture);
            double err = maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(out));
            assertTrue(err <= TOL, "output.sample max abs err " + err);
            assertEquals(3, out.size(0));
            assertEquals(8, out.size(1));
            for (int i = 0; i < 4; i++) {
                for (String kind : new String[] {"k", "v", "a", "out"}) {
                    String name = "block." + i + "." + kind;
                    Tensor got = capture.tensors().get(name);
                    assertEquals(3, got.dim(), name + " is [batch, tokens, channels]");
                    double e = maxAbsDiff(golden.floats(name), Tensors.toFloats(got));
                    assertTrue(e <= TOL, name + " max abs err " + e);
                }
            }
        }
    }

    @Test
    void positionTableMatchesDiffusers(@TempDir Path dir) throws Exception {
        Path goldenFile = Fixtures.copy("/fixtures/dit/golden.safetensors", dir.resolve("golden.safetensors"));
        DiTModel model = (DiTModel) ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile)) {
            float[] want = golden.floats("aux.pos_embed");
            float[] got = Tensors.toFloats(io.ditcache.model.dit.DiTModelAccess.positions(model, 4, 4));
            assertTrue(maxAbsDiff(want, got) <= 1e-6, "pos_embed");
        }
    }

    @Test
    void shapeMismatchAgainstConfigIsNamed(@TempDir Path dir) throws Exception {
        Path ckpt = Fixtures.ditCheckpoint(dir.resolve("dit"));
        String cfg = Files.readString(ckpt.resolve("config.json")).replace("\"num_attention_heads\": 2",
                "\"num_attention_heads\": 4");
        Files.writeString(ckpt.resolve("config.json"), cfg);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertTrue(e.getMessage().contains("has shape") && e.getMessage().contains("config.json implies"),
                e.getMessage());
    }

    @Test
    void unknownModelTypeIsNamed(@TempDir Path dir) throws Exception {
        Path ckpt = Fixtures.ditCheckpoint(dir.resolve("dit"));
        String cfg = Files.readString(ckpt.resolve("config.json")).replace("DiTTransformer2DModel", "UNet2DModel");
        Files.writeString(ckpt.resolve("config.json"), cfg);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertTrue(e.getMessage().contains("unknown model type \"UNet2DModel\""), e.getMessage());
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void badForwardInputsAreRejectedClearly(@TempDir Path dir) throws Exception {
        DiTModel model = (DiTModel) ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[2 * 3 * 8 * 8], 2, 3, 8, 8);
            Tensor t = Tensors.fromLongs(new long[] {1, 2}, 2);
            Tensor y = Tensors.fromLongs(new long[] {1, 2}, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(x, t, y, Step.conditional(0, 1, 0, 2), io.ditcache.ActivationProbe.NONE));
            assertTrue(e.getMessage().contains("hidden_states has shape [2, 3, 8, 8]"), e.getMessage());
            Tensor x4 = Tensors.fromFloats(new float[2 * 4 * 8 * 8], 2, 4, 8, 8);
            Tensor bad = Tensors.fromLongs(new long[] {1, 11}, 2);
            e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(x4, t, bad, Step.conditional(0, 1, 0, 2), io.ditcache.ActivationProbe.NONE));
            assertTrue(e.getMessage().contains("class label 11 out of range"), e.getMessage());
        }
    }
}
