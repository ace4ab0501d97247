package io.ditcache.model.latte;

import io.ditcache.model.layers.AdaLayerNormSingle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Latte forward (F = 16 = video_length, and the unit test's F = 1), every block's self-attention K/V/A and
 * output (spatial block 0 in diffusers' [B*F, N, D], temporal block 1 in [B*N, F, D]), the spatial block's
 * cross-attention q/k/v/a, and the intermediates (position tables, adaLN-single, caption projection) against
 * diffusers' golden tensors (max abs error 1e-4).
 */
class LatteGoldenTest {
    static final double TOL = 1e-4;
    @TempDir
    static Path dir;
    static LatteModel model;
    static Path golden;

    @BeforeAll
    static void load() throws Exception {
        model = assertInstanceOf(LatteModel.class, ModelLoader.load(LatteFixtures.checkpoint(dir.resolve("ckpt"))));
        golden = LatteFixtures.golden(dir);
    }

    static double near(SafetensorsFile g, String name, Tensor got, double tol) {
        double e = LatteFixtures.maxAbsDiff(g.floats(name), Tensors.toFloats(got.to(ScalarType.Float).contiguous()));
        System.out.printf("latte golden %-36s max abs err %.3g%n", name, e);
        assertTrue(e <= tol, name + " max abs err " + e);
        return e;
    }

    /** The inputs cloned: safetensors data may be unaligned, which changes float32 kernels' last bits. */
    static Tensor input(SafetensorsFile g, String name) {
        return g.load(name).clone();
    }

    @Test
    void forwardAndCapturesMatchDiffusers() throws Exception {
        assertEquals(2, model.layers(), "1 spatial + 1 temporal block");
        Map<String, Tensor> cross = new LinkedHashMap<>();
        try (SafetensorsFile g = SafetensorsFile.open(golden);
                PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT, SiteKind.BLOCK_OUT))) {
            model.observeCrossAttention((layer, name, value) -> cross.put("block." + layer + ".cross." + name,
                    value));
            Tensor out;
            try {
                out = model.forward(input(g, "input.hidden_states"), input(g, "input.timestep"),
                        input(g, "input.encoder_hidden_states"), null, Step.conditional(0, 1, 0, 2), capture);
            } finally {
                model.observeCrossAttention(null);
            }
            assertEquals(List.of(2L, 8L, 16L, 8L, 8L), List.of(out.size(0), out.size(1), out.size(2), out.size(3),
                    out.size(4)), "[B, out_channels, F, H, W], learned-sigma channels kept");
            near(g, "output.sample", out, TOL);
            for (int i = 0; i < 2; i++) {
                for (String kind : new String[] {"k", "v", "a", "out"}) {
                    String name = "block." + i + "." + kind;
                    Tensor got = capture.tensors().get(name);
                    assertEquals(2, got.size(0), name + ": one row per sample");
                    near(g, name, got, TOL);
                }
            }
            assertEquals(4, cross.size(), "cross-attention in the spatial block only");
            for (String kind : new String[] {"q", "k", "v", "a"}) {
                String name = "block.0.cross." + kind;
                near(g, name, cross.get(name), TOL);
            }
        }
    }

    @Test
    void oneFrameAsTheUnitTestMatchesDiffusers() throws Exception {
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            Tensor out = model.forward(input(g, "extra.unit_test.input.hidden_states"),
                    input(g, "extra.unit_test.input.timestep"),
                    input(g, "extra.unit_test.input.encoder_hidden_states"), null, Step.conditional(0, 1, 0, 2),
                    ActivationProbe.NONE);
            near(g, "extra.unit_test.output.sample", out, TOL);
        }
    }

    @Test
    void intermediatesMatchDiffusers() throws Exception {
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            near(g, "aux.pos_embed", model.patchEmbed().positions(4, 4), 1e-6);
            near(g, "aux.temp_pos_embed", model.temporalPositions(), 1e-6);
            Tensor x = input(g, "input.hidden_states");
            Tensor frames = x.permute(0, 2, 1, 3, 4).reshape(32, 4, 8, 8);
            near(g, "aux.patch_embed", model.patchEmbed().forward(frames), TOL);
            AdaLayerNormSingle.Conditioning c = model.adaln().forward(input(g, "input.timestep"), null, null);
            near(g, "aux.adaln_single_t6", c.t6(), TOL);
            near(g, "aux.adaln_single_embedded_t", c.embedded(), TOL);
            near(g, "aux.caption_projection", model.captionProjection().forward(
                    input(g, "input.encoder_hidden_states")), TOL);
        }
    }

    @Test
    void framesOtherThanOneOrVideoLengthAreRefused() throws Exception {
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            Tensor x = input(g, "input.hidden_states").narrow(2, 0, 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(x,
                    input(g, "input.timestep"), input(g, "input.encoder_hidden_states"), null,
                    Step.conditional(0, 1, 0, 2), ActivationProbe.NONE));
            assertTrue(e.getMessage().contains("video_length 16") && e.getMessage().contains("got 8"),
                    e.getMessage());
        }
    }
}
