package io.ditcache.model.sd3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SD3 forward and every captured site against diffusers' golden tensors (max abs error 1e-4): SD3 (the
 * diffusers unit-test config), a patch-2 variant whose 4 x 4 grid is cropped from a 16 x 16 table, and SD3.5
 * (dual attention in block 0, RMS q/k norms). Image K/V/A are diffusers' {@code k/v/a}; the text stream's
 * K/V/A, captured as {@code ek/ev/ea}, are its {@code add_k/add_v/a_ctx}.
 */
class SD3GoldenTest {
    static final double TOL = 1e-4;
    /** Our capture name -> diffusers' golden name, per block. */
    static final Map<String, String> SITES = Map.of("k", "k", "v", "v", "a", "a", "ek", "add_k", "ev", "add_v",
            "ea", "a_ctx");

    /** Loads fixture {@code name} (config.json + weights) as a user's checkpoint directory. */
    static Path checkpoint(String name, Path dir) {
        Fixtures.copy("/fixtures/diffusers/" + name + "/config.json", dir.resolve("config.json"));
        Fixtures.copy("/fixtures/diffusers/" + name + "/model.safetensors",
                dir.resolve("diffusion_pytorch_model.safetensors"));
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

    @ParameterizedTest
    @ValueSource(strings = {"sd3", "sd3_p2", "sd35"})
    void forwardAndCapturesMatchDiffusers(String name, @TempDir Path dir) throws Exception {
        SD3Model model = assertInstanceOf(SD3Model.class, ModelLoader.load(checkpoint(name, dir.resolve(name))));
        Path goldenFile = Fixtures.copy("/fixtures/diffusers/" + name + "/golden.safetensors",
                dir.resolve("golden.safetensors"));
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT))) {
            Tensor x = golden.load("input.hidden_states");
            Tensor out = model.forward(x, golden.load("input.timestep"), golden.load("input.encoder_hidden_states"),
                    golden.load("input.pooled_projections"), Step.conditional(0, 1, 0, (int) x.size(0)), capture);
            double err = maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(out));
            System.out.printf("%s output.sample max abs err %.3g%n", name, err);
            assertTrue(err <= TOL, name + " output.sample max abs err " + err);
            // without a probe the last block computes only its image queries: the same output
            Tensor plain = model.forward(x, golden.load("input.timestep"), golden.load("input.encoder_hidden_states"),
                    golden.load("input.pooled_projections"), Step.conditional(0, 1, 0, (int) x.size(0)),
                    io.ditcache.ActivationProbe.NONE);
            double plainErr = maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(plain));
            assertTrue(plainErr <= TOL, name + " output.sample without a probe, max abs err " + plainErr);
            double worst = 0;
            for (int i = 0; i < model.layers(); i++) {
                for (Map.Entry<String, String> site : SITES.entrySet()) {
                    String ours = "block." + i + "." + site.getKey();
                    String theirs = "block." + i + "." + site.getValue();
                    Tensor got = capture.tensors().get(ours);
                    assertTrue(got != null, name + ": " + ours + " was not captured");
                    double e = maxAbsDiff(golden.floats(theirs), Tensors.toFloats(got));
                    worst = Math.max(worst, e);
                    assertTrue(e <= TOL, name + ": " + ours + " vs " + theirs + " max abs err " + e);
                }
            }
            System.out.printf("%s captures (k, v, a, add_k, add_v, a_ctx of %d blocks) max abs err %.3g%n", name,
                    model.layers(), worst);
        }
    }
}
