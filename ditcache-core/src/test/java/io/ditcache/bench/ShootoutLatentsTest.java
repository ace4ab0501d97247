package io.ditcache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.model.Denoiser;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.Policies;
import io.ditcache.sample.Condition;
import io.ditcache.sched.Schedulers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shootout on a text model's prompts: fidelity on the final latents, no judge. */
class ShootoutLatentsTest {
    @TempDir
    Path dir;

    @Test
    void theDataRangeOfLatentsIsTheirSpread() {
        assertEquals(8.0, Shootout.range(new float[] {-3f, 0f, 5f}));
        assertEquals(1.0, Shootout.range(new float[] {2f, 2f}), "constant latents: range 1");
        assertEquals(1.0, Shootout.range(new float[] {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}));
    }

    @Test
    void promptsAreBenchedOnTheirLatentsWithoutAJudge() throws Exception {
        for (String f : List.of("config.json", "model.safetensors")) {
            try (InputStream in = getClass().getResourceAsStream("/fixtures/diffusers/sd3/" + f)) {
                Files.copy(in, dir.resolve(f.equals("config.json") ? f : "diffusion_pytorch_model.safetensors"));
            }
        }
        Denoiser sd3 = ModelLoader.load(dir);
        List<Condition> conds = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            float[] h = new float[5 * 32];
            float[] p = new float[64];
            for (int k = 0; k < h.length; k++) {
                h[k] = (float) Math.sin(k * 0.3 + i);
            }
            for (int k = 0; k < p.length; k++) {
                p[k] = (float) Math.cos(k * 0.2 + i);
            }
            Tensor states = Tensors.fromFloats(h, 1, 5, 32);
            Tensor pooled = Tensors.fromFloats(p, 1, 64);
            conds.add(new Condition(new TextEmbeddings(states, Optional.empty(), Optional.of(pooled),
                    Optional.empty()), i));
        }
        Shootout.Settings s = new Shootout.Settings(4, 2, 2.0, 0, 2, 1, 0);
        List<ShootoutCase> cases = List.of(new ShootoutCase("fora", "interval=2",
                () -> Policies.create("fora", Map.of("interval", 2))));
        Shootout.Result r = Shootout.run(sd3, () -> Schedulers.create("flowmatch", Map.of("shift", 3.0)), s, conds,
                Shootout.Fidelity.LATENTS, cases, new Shootout.Listener() {
                });
        assertEquals(Shootout.Fidelity.LATENTS, r.fidelity());
        assertTrue(Double.isNaN(r.baselineClassAccuracy()) && Double.isNaN(r.baselineFd()));
        ShootoutRow row = r.rows().get(0);
        assertTrue(row.skippedFraction() > 0, "FORA reused parts");
        assertTrue(row.maxAbsErr() > 0 && Double.isFinite(row.psnr()), row.toString());
        assertTrue(Double.isNaN(row.classAccuracy()) && Double.isNaN(row.fd()));
    }
}
