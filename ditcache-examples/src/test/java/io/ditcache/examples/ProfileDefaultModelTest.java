package io.ditcache.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.report.ProfileReport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileDefaultModelTest {
    @Test
    void profilesEveryBlockAndBothBranches(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("report");
        RedundancyProfile profile = ProfileDefaultModel.profile(4, out);
        assertEquals(6, profile.layers());
        assertEquals(4, profile.steps());
        assertEquals(1, profile.runs(), "one sampling run (all conditions in one batch)");
        for (Branch branch : Branch.values()) {
            SeriesKey key = new SeriesKey(SiteKind.K, TokenStream.IMAGE, branch, DistanceMetric.L1_MEAN);
            var series = profile.series(key).orElseThrow(() -> new AssertionError("no series " + key));
            for (int layer = 0; layer < 6; layer++) {
                for (int step = 0; step < 3; step++) {
                    long samples = ProfileDefaultModel.LABELS.size() * ProfileDefaultModel.SEEDS.size();
                    assertEquals(samples, series.count(layer, step), key + " [" + layer + "][" + step + "]");
                    assertTrue(series.mean(layer, step) > 0, key + " moves between steps");
                }
            }
        }
        assertFalse(profile.hasNonFinite());
        assertTrue(Files.size(out.resolve("profile.json")) > 0);
        assertTrue(Files.exists(out.resolve(ProfileReport.PAGE)));
        assertEquals(profile.series().size(), RedundancyProfile.readJson(out.resolve("profile.json")).series().size());
    }
}
