package io.ditcache.model.mochi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.profile.ActivationCapture;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Mochi forward and every captured site against diffusers' golden tensors (max abs error 1e-4), with the
 * all-true mask and with right-padded masks (11 and 6 valid tokens of 16). Video K/V/A are diffusers' {@code k/v/a};
 * the text stream's K/V/A, captured as {@code ek/ev/ea}, are its {@code add_k/add_v/a_ctx}.
 */
class MochiGoldenTest {
    static final double TOL = 1e-4;
    /** Our capture name -> diffusers' golden name, per block. */
    static final Map<String, String> SITES = Map.of("k", "k", "v", "v", "a", "a", "ek", "add_k", "ev", "add_v",
            "ea", "a_ctx");
    static final String DIR = "/fixtures/diffusers-video/mochi/";

    /** The fixture (config.json + weights) as a user's checkpoint directory. */
    static Path checkpoint(Path dir) {
        Fixtures.copy(DIR + "config.json", dir.resolve("config.json"));
        Fixtures.copy(DIR + "model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
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

    @Test
    void forwardAndCapturesMatchDiffusers(@TempDir Path dir) throws Exception {
        MochiModel model = assertInstanceOf(MochiModel.class, ModelLoader.load(checkpoint(dir.resolve("m"))));
        assertEquals(16360, model.info().parameterCount(), "diffusers' num_parameters() (meta.json)");
        Path goldenFile = Fixtures.copy(DIR + "golden.safetensors", dir.resolve("golden.safetensors"));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                PointerScope scope = new PointerScope()) {
            Tensor x = golden.load("input.hidden_states").clone();
            Tensor t = golden.load("input.timestep");
            Tensor text = golden.load("input.encoder_hidden_states").clone();
            Step step = Step.conditional(0, 1, 0, (int) x.size(0));
            for (String run : new String[] {"", "extra.masked."}) {
                Tensor mask = golden.load(run.isEmpty() ? "input.encoder_attention_mask"
                        : "extra.masked.encoder_attention_mask");
                try (ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT))) {
                    Tensor out = model.forward(x, t, text, mask, step, capture);
                    double err = maxAbsDiff(golden.floats(run + "output.sample"), Tensors.toFloats(out));
                    System.out.printf("mochi %soutput.sample max abs err %.3g%n", run, err);
                    assertTrue(err <= TOL, run + "output.sample max abs err " + err);
                    double worst = 0;
                    for (int i = 0; i < model.layers(); i++) {
                        for (Map.Entry<String, String> site : SITES.entrySet()) {
                            String theirs = run + "block." + i + "." + site.getValue();
                            if (!golden.contains(theirs)) {
                                continue; // the masked run stores a and a_ctx only
                            }
                            Tensor got = capture.tensors().get("block." + i + "." + site.getKey());
                            assertTrue(got != null, "block." + i + "." + site.getKey() + " was not captured");
                            double e = maxAbsDiff(golden.floats(theirs), Tensors.toFloats(got));
                            worst = Math.max(worst, e);
                            assertTrue(e <= TOL, site.getKey() + " vs " + theirs + " max abs err " + e);
                        }
                    }
                    System.out.printf("mochi %scaptures of %d blocks max abs err %.3g%n", run, model.layers(), worst);
                }
                // without a probe the last block computes only its video queries: the same output
                Tensor plain = model.forward(x, t, text, mask, step, ActivationProbe.NONE);
                double plainErr = maxAbsDiff(golden.floats(run + "output.sample"), Tensors.toFloats(plain));
                assertTrue(plainErr <= TOL, run + "output.sample without a probe, max abs err " + plainErr);
            }
            // no mask at all means every token, as the all-true mask
            Tensor noMask = model.forward(x, t, text, null, step, ActivationProbe.NONE);
            assertTrue(maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(noMask)) <= TOL, "no mask");
        }
    }

    /** The learned rotary table of the 2 x 8 x 8 token grid against diffusers' {@code rope_cos/rope_sin}. */
    @Test
    void rotaryTableMatchesDiffusers(@TempDir Path dir) throws Exception {
        MochiModel model = assertInstanceOf(MochiModel.class, ModelLoader.load(checkpoint(dir.resolve("m"))));
        Path goldenFile = Fixtures.copy(DIR + "golden.safetensors", dir.resolve("golden.safetensors"));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                PointerScope scope = new PointerScope()) {
            MochiRope.Table rope = MochiRope.of(model.stateDict().get("pos_frequencies"), 2, 8, 8);
            double cos = maxAbsDiff(golden.floats("aux.rope_cos"), Tensors.toFloats(rope.cos()));
            double sin = maxAbsDiff(golden.floats("aux.rope_sin"), Tensors.toFloats(rope.sin()));
            System.out.printf("mochi rope cos/sin max abs err %.3g / %.3g%n", cos, sin);
            assertTrue(cos <= 1e-5 && sin <= 1e-5, "rope cos " + cos + ", sin " + sin);
        }
    }
}
