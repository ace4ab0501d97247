package io.ditcache.model.flux;

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
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture FLUX sampled for 10 FlowMatch steps (shift 1) with the {@link io.ditcache.profile.StreamingProfiler}
 * attached, against diffusers' golden profile: per block and transition the mean L1 and relative L1 of K, V and the
 * attention output (relative error 1e-4 per cell), and the final latent (max abs error 1e-4).
 *
 * <p>The golden profile measures the single block (block 1) over the whole [text; image] sequence, as diffusers'
 * hooks capture it; the sampling view measures its image and text tokens as two streams. Their expected values are
 * computed here in float64 from the fixture's per-step captures, split at the 48 text tokens (and the whole-sequence
 * values recomputed the same way must give the golden JSON's, which checks the recomputation).
 */
class FluxProfileGoldenTest {
    private static final int STEPS = 10;
    private static final int TEXT = 48;
    private static final Map<String, SiteKind> KINDS = Map.of("k", SiteKind.K, "v", SiteKind.V, "a",
            SiteKind.ATTN_OUT);

    @Test
    void flowmatch10ProfileMatchesGolden(@TempDir Path dir) throws Exception {
        FluxModel model = (FluxModel) ModelLoader.load(FluxFixtures.checkpoint(dir.resolve("flux")));
        JsonNode golden = new ObjectMapper().readTree(FluxFixtures.copy("profile_flux_flowmatch10.json", dir)
                .toFile());
        Path tensors = FluxFixtures.copy("profile_flux_flowmatch10.safetensors", dir);
        try (SafetensorsFile f = SafetensorsFile.open(tensors); PointerScope scope = new PointerScope()) {
            TextEmbeddings text = new TextEmbeddings(f.load("encoder_hidden_states"), Optional.empty(),
                    Optional.of(f.load("pooled_projections")), Optional.empty());
            SamplingOptions options = new SamplingOptions(List.of(new Condition(text, 0)), STEPS, 1.0);
            assertEquals(List.of(1L, 16L, 4L), f.info("init_latent").shape());
            Samples noise = new Samples(unpack(f.floats("init_latent"), 1, 8, 8), new long[] {1, 1, 8, 8});

            RedundancyProfile p = Profiling.run(model, "flux", Schedulers.create("flowmatch", Map.of()), options,
                    noise);
            assertEquals(STEPS, p.steps());
            assertEquals(2, p.layers());
            double worst = 0;
            for (Map.Entry<String, SiteKind> e : KINDS.entrySet()) {
                String k = e.getKey();
                JsonNode l1 = golden.get(k);
                JsonNode rel = golden.get("relative_l1").get(k);
                double[][] image = new double[STEPS - 1][];
                double[][] textOnly = new double[STEPS - 1][];
                for (int i = 0; i < STEPS - 1; i++) {
                    float[] a = f.floats("step." + i + ".block.1." + k);
                    float[] b = f.floats("step." + (i + 1) + ".block.1." + k);
                    int width = a.length / (TEXT + 16);
                    double[] whole = distances(a, b, 0, a.length);
                    assertEquals(l1.get(i).get(1).asDouble(), whole[0], 1e-9 * whole[0], "recomputed " + k + " L1");
                    assertEquals(rel.get(i).get(1).asDouble(), whole[1], 1e-9 * whole[1], "recomputed " + k
                            + " rel");
                    textOnly[i] = distances(a, b, 0, TEXT * width);
                    image[i] = distances(a, b, TEXT * width, a.length);
                }
                for (int i = 0; i < STEPS - 1; i++) {
                    worst = Math.max(worst, cell(p, e.getValue(), TokenStream.IMAGE, DistanceMetric.L1_MEAN, 0, i,
                            l1.get(i).get(0).asDouble()));
                    worst = Math.max(worst, cell(p, e.getValue(), TokenStream.IMAGE, DistanceMetric.L1_REL, 0, i,
                            rel.get(i).get(0).asDouble()));
                    worst = Math.max(worst, cell(p, e.getValue(), TokenStream.IMAGE, DistanceMetric.L1_MEAN, 1, i,
                            image[i][0]));
                    worst = Math.max(worst, cell(p, e.getValue(), TokenStream.IMAGE, DistanceMetric.L1_REL, 1, i,
                            image[i][1]));
                    worst = Math.max(worst, cell(p, e.getValue(), TokenStream.TEXT, DistanceMetric.L1_MEAN, 1, i,
                            textOnly[i][0]));
                    worst = Math.max(worst, cell(p, e.getValue(), TokenStream.TEXT, DistanceMetric.L1_REL, 1, i,
                            textOnly[i][1]));
                }
                // the double block's text stream (ek, ev, ea) is profiled too
                ProfileSeries ek = p.series(new SeriesKey(e.getValue(), TokenStream.TEXT, Branch.COND,
                        DistanceMetric.L1_MEAN)).orElseThrow();
                assertEquals(1, ek.count(0, 0));
                assertTrue(ek.mean(0, 0) > 0);
            }
            assertTrue(worst <= 1e-4, "max relative error " + worst);
            System.out.printf("flux flowmatch10 profile: max relative error per cell %.2e%n", worst);

            Samples last = new Sampler(model, Schedulers.create("flowmatch", Map.of())).sample(options, noise,
                    ActivationProbe.NONE);
            float[] packed = pack(last.values(), 1, 8, 8);
            double err = FluxFixtures.maxAbsDiff(f.floats("final_latent"), packed);
            assertTrue(err <= 1e-4, "final latent max abs err " + err);
            double json = 0;
            JsonNode fl = golden.get("final_latent");
            for (int i = 0; i < packed.length; i++) {
                json = Math.max(json, Math.abs(fl.get(i).asDouble() - packed[i]));
            }
            assertTrue(json <= 1e-4, "final latent (JSON) max abs err " + json);
        }
    }

    /** Our cell's relative error against {@code want}. */
    private static double cell(RedundancyProfile p, SiteKind kind, TokenStream stream, DistanceMetric metric,
            int layer, int step, double want) {
        ProfileSeries s = p.series(new SeriesKey(kind, stream, Branch.COND, metric)).orElseThrow();
        assertEquals(STEPS - 1, s.steps());
        assertEquals(1, s.count(layer, step), kind + " " + stream + " layer " + layer + " step " + step);
        return Math.abs(s.mean(layer, step) - want) / Math.max(Math.abs(want), 1e-3);
    }

    /** {@code mean|b - a|} and {@code sum|b - a| / sum|a|} over elements {@code [from, to)}, in float64. */
    private static double[] distances(float[] a, float[] b, int from, int to) {
        double diff = 0;
        double norm = 0;
        for (int i = from; i < to; i++) {
            diff += Math.abs((double) b[i] - a[i]);
            norm += Math.abs((double) a[i]);
        }
        return new double[] {diff / (to - from), diff / norm};
    }

    /**
     * FluxPipeline's {@code _unpack_latents} for one sample: tokens of the {@code H/2 x W/2} grid, each
     * {@code c * 4 + dy * 2 + dx}, to {@code [C, H, W]}.
     */
    static float[] unpack(float[] tokens, int c, int h, int w) {
        float[] out = new float[c * h * w];
        for (int r = 0; r < h / 2; r++) {
            for (int q = 0; q < w / 2; q++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            out[(ch * h + 2 * r + dy) * w + 2 * q + dx] =
                                    tokens[(r * (w / 2) + q) * c * 4 + ch * 4 + dy * 2 + dx];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The inverse of {@link #unpack} ({@code _pack_latents}). */
    static float[] pack(float[] latent, int c, int h, int w) {
        float[] out = new float[latent.length];
        for (int r = 0; r < h / 2; r++) {
            for (int q = 0; q < w / 2; q++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            out[(r * (w / 2) + q) * c * 4 + ch * 4 + dy * 2 + dx] =
                                    latent[(ch * h + 2 * r + dy) * w + 2 * q + dx];
                        }
                    }
                }
            }
        }
        return out;
    }
}
