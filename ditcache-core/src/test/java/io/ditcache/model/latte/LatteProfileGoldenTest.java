package io.ditcache.model.latte;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture Latte sampled for 10 DDIM steps (diffusers' DDIMScheduler defaults, eta 0, no guidance) with the
 * {@link io.ditcache.profile.StreamingProfiler} attached, against diffusers' golden profile: per block (0 spatial,
 * 1 temporal) and transition the mean L1 and relative L1 of K, V and the attention output (relative error 1e-4 per
 * cell), and the final latent (max abs error 1e-4).
 *
 * <p>diffusers' hooks capture the spatial block's activations as {@code [B*F, N, D]} and the temporal block's as
 * {@code [B*N, F, D]}; the model reports them with one row per sample ({@code [B, F*N, D]}, {@code [B, N*F, D]}),
 * the same elements, so the profile's means over all elements must equal the golden ones as they are.
 */
class LatteProfileGoldenTest {
    private static final int STEPS = 10;
    private static final Map<String, SiteKind> KINDS = Map.of("k", SiteKind.K, "v", SiteKind.V, "a",
            SiteKind.ATTN_OUT);

    @Test
    void ddim10ProfileMatchesGolden(@TempDir Path dir) throws Exception {
        LatteModel model = (LatteModel) ModelLoader.load(LatteFixtures.checkpoint(dir.resolve("latte")));
        JsonNode golden = new ObjectMapper().readTree(LatteFixtures.profile(dir).toFile());
        assertEquals(List.of("transformer_blocks.0", "temporal_transformer_blocks.0"),
                List.of(golden.get("layer_map").get(0).asText(), golden.get("layer_map").get(1).asText()));
        try (SafetensorsFile f = SafetensorsFile.open(LatteFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            TextEmbeddings text = TextEmbeddings.of(f.load("ddim10.encoder_hidden_states").clone());
            SamplingOptions options = new SamplingOptions(List.of(new Condition(text, 0)), STEPS, 1.0);
            assertEquals(List.of(1L, 4L, 16L, 8L, 8L), f.info("ddim10.init_latent").shape());
            Samples noise = new Samples(f.floats("ddim10.init_latent"), new long[] {1, 4, 16, 8, 8});

            RedundancyProfile p = Profiling.run(model, "latte", Schedulers.create("ddim", Map.of()), options, noise);
            assertEquals(STEPS, p.steps());
            assertEquals(2, p.layers());
            double worst = 0;
            for (Map.Entry<String, SiteKind> e : KINDS.entrySet()) {
                JsonNode l1 = golden.get(e.getKey());
                JsonNode rel = golden.get("relative_l1").get(e.getKey());
                for (int i = 0; i < STEPS - 1; i++) {
                    for (int layer = 0; layer < 2; layer++) {
                        worst = Math.max(worst, cell(p, e.getValue(), DistanceMetric.L1_MEAN, layer, i,
                                l1.get(i).get(layer).asDouble()));
                        worst = Math.max(worst, cell(p, e.getValue(), DistanceMetric.L1_REL, layer, i,
                                rel.get(i).get(layer).asDouble()));
                    }
                }
            }
            System.out.printf("latte ddim10 profile: max relative error per cell %.2e%n", worst);
            assertTrue(worst <= 1e-4, "max relative error " + worst);

            Samples last = new Sampler(model, Schedulers.create("ddim", Map.of())).sample(options, noise,
                    ActivationProbe.NONE);
            double err = LatteFixtures.maxAbsDiff(f.floats("ddim10.final_latent"), last.values());
            double json = 0;
            JsonNode fl = golden.get("final_latent");
            float[] values = last.values();
            assertEquals(values.length, fl.size());
            for (int i = 0; i < values.length; i++) {
                json = Math.max(json, Math.abs(fl.get(i).asDouble() - values[i]));
            }
            System.out.printf("latte ddim10 final latent: max abs err %.2e (JSON %.2e)%n", err, json);
            assertTrue(err <= 1e-4, "final latent max abs err " + err);
            assertTrue(json <= 1e-4, "final latent (JSON) max abs err " + json);
        }
    }

    /** Our cell's relative error against {@code want}. */
    private static double cell(RedundancyProfile p, SiteKind kind, DistanceMetric metric, int layer, int step,
            double want) {
        ProfileSeries s = p.series(new SeriesKey(kind, TokenStream.IMAGE, Branch.COND, metric)).orElseThrow();
        assertEquals(STEPS - 1, s.steps());
        assertEquals(1, s.count(layer, step), kind + " layer " + layer + " step " + step);
        return Math.abs(s.mean(layer, step) - want) / Math.max(Math.abs(want), 1e-3);
    }
}
