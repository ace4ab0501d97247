package io.ditcache.model.pixart;

import io.ditcache.model.layers.AdaLayerNormSingle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ComputeType;
import io.ditcache.model.Denoiser;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.profile.ActivationCapture;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PixArt forward, every block's self- and cross-attention K/V/A and output, the masked forward and the
 * intermediates (position table, adaLN-single, caption projection) against diffusers' golden tensors (max abs
 * error 1e-4).
 */
class PixArtGoldenTest {
    static final double TOL = 1e-4;
    static final int LAYERS = 3;
    @TempDir
    static Path dir;
    static PixArtModel model;
    static Path golden;

    @BeforeAll
    static void load() throws Exception {
        model = assertInstanceOf(PixArtModel.class, ModelLoader.load(PixArtFixtures.checkpoint(dir.resolve("ckpt"))));
        golden = PixArtFixtures.golden(dir);
    }

    static double maxAbsDiff(float[] want, float[] got) {
        assertEquals(want.length, got.length, "element count");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }

    static void near(SafetensorsFile g, String name, Tensor got, double tol) {
        double e = maxAbsDiff(g.floats(name), Tensors.toFloats(got.to(ScalarType.Float).contiguous()));
        System.out.printf("pixart golden %-22s max abs err %.3g%n", name, e);
        assertTrue(e <= tol, name + " max abs err " + e);
    }

    @Test
    void forwardAndCapturesMatchDiffusers() throws Exception {
        assertEquals(LAYERS, model.layers());
        Map<String, Tensor> cross = new LinkedHashMap<>();
        try (SafetensorsFile g = SafetensorsFile.open(golden);
                PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT, SiteKind.BLOCK_OUT))) {
            model.observeCrossAttention((layer, name, value) -> cross.put("block." + layer + ".cross." + name,
                    value));
            Tensor out;
            try {
                out = model.forward(g.load("input.hidden_states"), g.load("input.timestep"),
                        g.load("input.encoder_hidden_states"), null, Step.conditional(0, 1, 0, 2), capture);
            } finally {
                model.observeCrossAttention(null);
            }
            assertEquals(8, out.size(1), "learned-sigma channels kept");
            near(g, "output.sample", out, TOL);
            for (int i = 0; i < LAYERS; i++) {
                for (String kind : new String[] {"k", "v", "a", "out"}) {
                    String name = "block." + i + "." + kind;
                    near(g, name, capture.tensors().get(name), TOL);
                }
                for (String kind : new String[] {"q", "k", "v", "a"}) {
                    String name = "block." + i + ".cross." + kind;
                    near(g, name, cross.get(name), TOL);
                }
            }
        }
    }

    @Test
    void theCaptionMaskIsAnAdditiveBiasAsInDiffusers() throws Exception {
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            Tensor x = g.load("input.hidden_states");
            Tensor t = g.load("input.timestep");
            Tensor text = g.load("input.encoder_hidden_states");
            Tensor mask = g.load("extra.encoder_attention_mask");
            Tensor masked = model.forward(x, t, text, mask, Step.conditional(0, 1, 0, 2), ActivationProbe.NONE);
            near(g, "extra.output_masked", masked, TOL);
            double changed = maxAbsDiff(g.floats("output.sample"), Tensors.toFloats(masked));
            assertTrue(changed > 1e-3, "the mask drops tokens: " + changed);
        }
    }

    @Test
    void inBfloat16TheDenoiserAgreesToItsPrecision() throws Exception {
        Denoiser bf16 = ModelLoader.load(PixArtFixtures.checkpoint(dir.resolve("bf16")), ComputeType.BFLOAT16);
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            for (Tensor w : bf16.stateDict().values()) {
                assertEquals(ScalarType.BFloat16, w.scalar_type().intern());
            }
            TextEmbeddings text = new TextEmbeddings(g.load("input.encoder_hidden_states"),
                    Optional.of(g.load("extra.encoder_attention_mask")), Optional.empty(), Optional.empty());
            Tensor eps = bf16.forward(g.load("input.hidden_states"), g.load("input.timestep"), text,
                    Step.conditional(0, 1, 0, 2), ActivationProbe.NONE);
            assertEquals(ScalarType.Float, eps.scalar_type().intern());
            Tensor want = Tensors.fromFloats(g.floats("extra.output_masked"), 2, 8, 8, 8).narrow(1, 0, 4);
            double err = maxAbsDiff(Tensors.toFloats(want.contiguous()), Tensors.toFloats(eps));
            assertTrue(err < 0.05 && err > 1e-6, "bfloat16 error " + err + " (output up to 1.1)");
        }
    }

    @Test
    void intermediatesMatchDiffusers() throws Exception {
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            near(g, "aux.pos_embed", model.patchEmbed().positions(4, 4), 1e-6);
            near(g, "aux.patch_embed", model.patchEmbed().forward(g.load("input.hidden_states")), TOL);
            AdaLayerNormSingle.Conditioning c = model.adaln().forward(g.load("input.timestep"), null, null);
            near(g, "aux.adaln_single_t6", c.t6(), TOL);
            near(g, "aux.adaln_single_embedded_t", c.embedded(), TOL);
            near(g, "aux.caption_projection", model.captionProjection().forward(
                    g.load("input.encoder_hidden_states")), TOL);
        }
    }
}
