package io.ditcache.model.cogvideox;

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
 * The {@code cogvideox} fixture sampled for 8 steps of {@code CogVideoXDDIMScheduler} (CogVideoX-2b/-5b values,
 * v-prediction, zero terminal SNR, trailing) with the {@link io.ditcache.profile.StreamingProfiler} attached,
 * against diffusers' golden profile: per block and transition the mean L1 and relative L1 of the video rows' K, V
 * and attention output and of the text rows' K, V and attention output as the TEXT stream (relative error 1e-4 per
 * cell), and the final latent (max abs error 1e-4).
 */
class CogVideoXProfileGoldenTest {
    private static final int STEPS = 8;
    private static final String NAME = "profile_cogvideox_cogvideoxddim8";

    /** Golden key, our site and stream. */
    private record Cell(String key, SiteKind kind, TokenStream stream) {
    }

    private static final List<Cell> CELLS = List.of(new Cell("k", SiteKind.K, TokenStream.IMAGE),
            new Cell("v", SiteKind.V, TokenStream.IMAGE), new Cell("a", SiteKind.ATTN_OUT, TokenStream.IMAGE),
            new Cell("add_k", SiteKind.K, TokenStream.TEXT), new Cell("add_v", SiteKind.V, TokenStream.TEXT),
            new Cell("a_ctx", SiteKind.ATTN_OUT, TokenStream.TEXT));

    @Test
    void cogvideoxDdim8ProfileMatchesGolden(@TempDir Path dir) throws Exception {
        CogVideoXModel model = (CogVideoXModel) ModelLoader.load(CogVideoXFixtures.checkpoint("cogvideox",
                dir.resolve("model")));
        JsonNode golden = new ObjectMapper().readTree(CogVideoXFixtures.copy(NAME + ".json", dir).toFile());
        Path tensors = CogVideoXFixtures.copy(NAME + ".safetensors", dir);
        // the scheduler config the fixture used (CogVideoX-2b's values: snr_shift_scale 3), as a config file holds it
        @SuppressWarnings("unchecked")
        Map<String, Object> schedulerConfig = new ObjectMapper().convertValue(golden.get("scheduler_config"),
                Map.class);
        assertEquals(3.0, ((Number) schedulerConfig.get("snr_shift_scale")).doubleValue());
        // the same as CogVideoX-5b's defaults but for snr_shift_scale
        for (Map.Entry<String, Object> e : CogVideoXModel.SCHEDULER_CONFIG.entrySet()) {
            if (!e.getKey().equals("snr_shift_scale")) {
                assertEquals(e.getValue().toString(), schedulerConfig.get(e.getKey()).toString(), e.getKey());
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(tensors); PointerScope scope = new PointerScope()) {
            TextEmbeddings text = TextEmbeddings.of(f.load("encoder_hidden_states"));
            SamplingOptions options = new SamplingOptions(List.of(new Condition(text, 0)), STEPS, 1.0);
            assertEquals(List.of(1L, 2L, 4L, 8L, 8L), f.info("init_latent").shape());
            Samples noise = new Samples(f.floats("init_latent"), new long[] {1, 2, 4, 8, 8});
            var scheduler = Schedulers.create("CogVideoXDDIMScheduler", schedulerConfig);
            scheduler.setTimesteps(STEPS);
            JsonNode ts = golden.get("timesteps");
            for (int i = 0; i < STEPS; i++) {
                assertEquals(ts.get(i).asDouble(), scheduler.timesteps()[i], "timestep " + i);
            }

            RedundancyProfile p = Profiling.run(model, "cogvideox", Schedulers.create("cogvideox-ddim",
                    schedulerConfig), options, noise);
            assertEquals(STEPS, p.steps());
            assertEquals(2, p.layers());
            double worst = 0;
            for (Cell c : CELLS) {
                JsonNode l1 = golden.get(c.key());
                JsonNode rel = golden.get("relative_l1").get(c.key());
                for (int i = 0; i < STEPS - 1; i++) {
                    for (int j = 0; j < 2; j++) {
                        worst = Math.max(worst, cell(p, c, DistanceMetric.L1_MEAN, j, i, l1.get(i).get(j).asDouble()));
                        worst = Math.max(worst, cell(p, c, DistanceMetric.L1_REL, j, i, rel.get(i).get(j).asDouble()));
                    }
                }
            }
            assertTrue(worst <= 1e-4, "max relative error " + worst);
            System.out.printf("cogvideox ddim8 profile: max relative error per cell %.2e%n", worst);

            Samples last = new Sampler(model, Schedulers.create("cogvideox-ddim", schedulerConfig)).sample(options,
                    noise, ActivationProbe.NONE);
            double err = CogVideoXFixtures.maxAbsDiff(f.floats("final_latent"), last.values());
            assertTrue(err <= 1e-4, "final latent max abs err " + err);
            double json = 0;
            JsonNode fl = golden.get("final_latent");
            for (int i = 0; i < last.values().length; i++) {
                json = Math.max(json, Math.abs(fl.get(i).asDouble() - last.values()[i]));
            }
            assertTrue(json <= 1e-4, "final latent (JSON) max abs err " + json);
            System.out.printf("cogvideox ddim8 final latent max abs err %.2e%n", err);
        }
    }

    /** Our cell's relative error against {@code want}. */
    private static double cell(RedundancyProfile p, Cell c, DistanceMetric metric, int layer, int step,
            double want) {
        ProfileSeries s = p.series(new SeriesKey(c.kind(), c.stream(), Branch.COND, metric)).orElseThrow();
        assertEquals(STEPS - 1, s.steps());
        assertEquals(1, s.count(layer, step), c + " layer " + layer + " step " + step);
        return Math.abs(s.mean(layer, step) - want) / Math.max(Math.abs(want), 1e-3);
    }
}
