package io.ditcache.model.flux;

import static io.ditcache.model.flux.FluxFixtures.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.SiteKind;
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
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * diffusers' {@code FluxTransformer2DModel} test config (1 double + 1 single block) against its golden forward:
 * the output, every K/V/attention capture of both blocks and both streams, the block outputs and the RoPE tables
 * (max abs error 1e-4).
 */
class FluxModelGoldenTest {
    private static final double TOL = 1e-4;
    /** Our capture names and diffusers' hook names for the same tensors. */
    private static final Map<String, String> CAPTURES = new LinkedHashMap<>();

    static {
        for (String k : List.of("k", "v", "a", "out")) {
            CAPTURES.put("block.0." + k, "block.0." + k);
            CAPTURES.put("block.1." + k, "block.1." + k);
        }
        CAPTURES.put("block.0.ek", "block.0.add_k");
        CAPTURES.put("block.0.ev", "block.0.add_v");
        CAPTURES.put("block.0.ea", "block.0.a_ctx");
        CAPTURES.put("block.0.out_ctx", "block.0.out_ctx");
        CAPTURES.put("block.1.out_ctx", "block.1.out_ctx");
    }

    @Test
    void diffusersForwardAndCapturesMatchGolden(@TempDir Path dir) throws Exception {
        FluxModel model = (FluxModel) ModelLoader.load(FluxFixtures.checkpoint(dir.resolve("flux")));
        assertEquals(2, model.layers());
        Path goldenFile = FluxFixtures.copy("golden.safetensors", dir);
        Path inputs = dir.resolve("inputs.safetensors");
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (String name : model.inputNames()) {
                in.put(name, golden.load("input." + name));
            }
            SafetensorsWriter.write(inputs, in, Map.of());
        }
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile);
                SafetensorsFile in = SafetensorsFile.open(inputs);
                PointerScope scope = new PointerScope();
                ActivationCapture capture = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT, SiteKind.BLOCK_OUT))) {
            Tensor out = model.forward(in, null, capture);
            double err = maxAbsDiff(golden.floats("output.sample"), Tensors.toFloats(out));
            assertTrue(err <= TOL, "output.sample max abs err " + err);
            double worst = err;
            for (Map.Entry<String, String> e : CAPTURES.entrySet()) {
                Tensor got = capture.tensors().get(e.getKey());
                assertTrue(got != null, "no capture " + e.getKey() + " in " + capture.tensors().keySet());
                assertEquals(golden.info(e.getValue()).shape(), List.of(Tensors.shape(got)[0], Tensors.shape(got)[1],
                        Tensors.shape(got)[2]), e.getValue() + " shape");
                double d = maxAbsDiff(golden.floats(e.getValue()), Tensors.toFloats(got));
                assertTrue(d <= TOL, e.getValue() + " max abs err " + d);
                worst = Math.max(worst, d);
            }
            System.out.printf("flux golden: output max abs err %.2e, worst capture or output %.2e%n", err, worst);
        }
    }

    @Test
    void ropeMatchesGolden(@TempDir Path dir) throws Exception {
        Path goldenFile = FluxFixtures.copy("golden.safetensors", dir);
        try (SafetensorsFile golden = SafetensorsFile.open(goldenFile); PointerScope scope = new PointerScope()) {
            Tensor ids = torch.cat(new TensorVector(golden.load("input.txt_ids"), golden.load("input.img_ids")), 0);
            FluxRope rope = FluxRope.of(ids, List.of(4, 4, 8));
            assertEquals(List.of(64L, 16L), golden.info("aux.rope_cos").shape());
            double cos = maxAbsDiff(golden.floats("aux.rope_cos"), Tensors.toFloats(rope.cos()));
            double sin = maxAbsDiff(golden.floats("aux.rope_sin"), Tensors.toFloats(rope.sin()));
            assertTrue(cos <= 1e-6, "rope cos max abs err " + cos);
            assertTrue(sin <= 1e-6, "rope sin max abs err " + sin);
        }
    }
}
