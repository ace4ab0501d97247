package io.ditcache.model.mochi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generic profiler measures both streams of every joint Mochi block (K/V/A and ek/ev/ea, the feed-forwards
 * and block outputs) over a sampling run with MochiPipeline's sigmas; the last block's text stream ends in its
 * attention.
 */
class MochiProfilingTest {
    @Test
    void bothStreamsAreProfiled(@TempDir Path dir) throws Exception {
        MochiModel model = MochiTestModels.random(MochiTestModels.tiny(), 5);
        SamplingOptions options = new SamplingOptions(List.of(MochiTestModels.prompt(1, 0),
                MochiTestModels.prompt(2, 3)), 5, 2.0);
        RedundancyProfile p = Profiling.run(model, "mochi-tiny", Schedulers.create(MochiModel.SAMPLING.scheduler(),
                MochiModel.SAMPLING.schedulerConfig()), options, null);
        int layers = model.layers();
        assertEquals(layers, p.layers());
        assertEquals(model.config().parameterCount(), ((Number) p.model().get("parameters")).longValue());
        for (SiteKind kind : List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT, SiteKind.MLP_OUT,
                SiteKind.BLOCK_OUT)) {
            for (TokenStream stream : TokenStream.values()) {
                SeriesKey key = new SeriesKey(kind, stream, Branch.COND, DistanceMetric.L1_MEAN);
                var series = p.series(key).orElseThrow(() -> new AssertionError("no series " + key));
                boolean ends = stream == TokenStream.TEXT && (kind == SiteKind.MLP_OUT || kind == SiteKind.BLOCK_OUT);
                for (int l = 0; l < layers; l++) {
                    long want = ends && l == layers - 1 ? 0 : 2;
                    assertEquals(want, series.count(l, 2), key + " layer " + l);
                    if (want > 0) {
                        assertTrue(series.mean(l, 2) > 0, key + " layer " + l + " changes between steps");
                    }
                }
            }
        }
        Path file = dir.resolve("profile.json");
        p.writeJson(file);
        RedundancyProfile back = RedundancyProfile.readJson(file);
        assertEquals(p.series().size(), back.series().size());
        assertEquals(((Map<?, ?>) p.model().get("config")).get("text_embed_dim"),
                ((Map<?, ?>) back.model().get("config")).get("text_embed_dim"));
    }
}
