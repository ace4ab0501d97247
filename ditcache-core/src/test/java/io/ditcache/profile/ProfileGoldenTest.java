package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The 20-step DDIM profile of the fixture DiT against diffusers' golden profile (relative error 1e-4 per cell). */
class ProfileGoldenTest {

    @Test
    void ddim20ProfileMatchesGolden(@TempDir Path dir) throws Exception {
        DiTModel model = (DiTModel) ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
        Path goldenFile = Fixtures.copy("/fixtures/dit/golden.safetensors", dir.resolve("golden.safetensors"));
        JsonNode golden = new ObjectMapper().readTree(
                Fixtures.copy("/fixtures/dit/profile_dit_ddim20.json", dir.resolve("p.json")).toFile());
        Samples noise;
        float[] finalLatent;
        try (SafetensorsFile g = SafetensorsFile.open(goldenFile)) {
            noise = new Samples(g.floats("ddim20.init_latent"), g.info("ddim20.init_latent").dims());
            finalLatent = g.floats("ddim20.final_latent");
        }
        SamplingOptions options = new SamplingOptions(List.of(new Condition(3, 0)), 20, 1.0);
        RedundancyProfile p = Profiling.run(model, "dit", Schedulers.create("ddim", Map.of()), options, noise);
        assertEquals(20, p.steps());
        assertEquals(1, p.runs());

        Map<String, SiteKind> kinds = Map.of("k", SiteKind.K, "v", SiteKind.V, "a", SiteKind.ATTN_OUT);
        double worst = 0;
        for (Map.Entry<String, SiteKind> e : kinds.entrySet()) {
            worst = Math.max(worst, compare(golden.get(e.getKey()), p, SeriesKey.of(e.getValue(), DistanceMetric.L1_MEAN)));
            worst = Math.max(worst, compare(golden.get("relative_l1").get(e.getKey()), p,
                    SeriesKey.of(e.getValue(), DistanceMetric.L1_REL)));
        }
        assertTrue(worst <= 1e-4, "max relative error " + worst);

        Samples last = new io.ditcache.sample.Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, noise,
                io.ditcache.ActivationProbe.NONE);
        double err = 0;
        for (int i = 0; i < finalLatent.length; i++) {
            err = Math.max(err, Math.abs(finalLatent[i] - last.values()[i]));
        }
        assertTrue(err <= 1e-4, "final latent max abs err " + err);
    }

    /** Golden matrices are [transition][block]; ours are [layer][step]. */
    private static double compare(JsonNode golden, RedundancyProfile p, SeriesKey key) {
        ProfileSeries s = p.series(key).orElseThrow();
        assertEquals(golden.size(), s.steps(), key + " steps");
        double worst = 0;
        for (int step = 0; step < golden.size(); step++) {
            assertEquals(golden.get(step).size(), s.layers(), key + " layers");
            for (int layer = 0; layer < s.layers(); layer++) {
                double want = golden.get(step).get(layer).asDouble();
                double got = s.mean(layer, step);
                assertEquals(1, s.count(layer, step));
                worst = Math.max(worst, Math.abs(got - want) / Math.max(Math.abs(want), 1e-3));
            }
        }
        return worst;
    }
}
