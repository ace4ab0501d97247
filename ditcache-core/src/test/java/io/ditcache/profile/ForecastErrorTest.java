package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.internal.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forecast error ({@link DistanceMetric#FORECAST_L1_REL}): {@code sum|x[i+1] - (2 x[i] - x[i-1])| / sum|x[i]|}
 * per sample, against a float64 reference; zero on a linear trajectory and exact on a quadratic one.
 */
class ForecastErrorTest {
    private static final Site SITE = Site.of(1, SiteKind.ATTN_OUT);
    private static final int WIDTH = 37;
    private static final List<Branch> CFG = List.of(Branch.COND, Branch.UNCOND);

    private static SeriesKey key(Branch branch) {
        return new SeriesKey(SiteKind.ATTN_OUT, TokenStream.IMAGE, branch, DistanceMetric.FORECAST_L1_REL);
    }

    /** Runs {@code steps} calls of rows {@code rows} whose row r at step i is {@code x.apply(i, r)}. */
    private static RedundancyProfile profile(int steps, List<Branch> rows, BiFunction<Integer, Integer, float[]> x,
            boolean forecast) {
        RedundancyProfile prof = new RedundancyProfile(Map.of("name", "toy"), Map.of(), 2, steps);
        StreamingProfiler p = new StreamingProfiler(prof, EnumSet.allOf(SiteKind.class), forecast);
        for (int i = 0; i < steps; i++) {
            float[] all = new float[rows.size() * WIDTH];
            for (int r = 0; r < rows.size(); r++) {
                System.arraycopy(x.apply(i, r), 0, all, r * WIDTH, WIDTH);
            }
            try (PointerScope scope = new PointerScope()) {
                p.observe(new Step(i, steps, 1000 - i, rows), SITE, Tensors.fromFloats(all, rows.size(), WIDTH));
            }
        }
        p.endRun();
        return prof;
    }

    /** Dyadic values (exact in float and in every double sum here): x0 + i d + i^2 c per element. */
    private static float[] polynomial(int i, int r, double c) {
        float[] v = new float[WIDTH];
        for (int j = 0; j < WIDTH; j++) {
            double x0 = (j - 18) * 0.25 + 40 * (r + 1);
            double d = ((j * 7) % 11 - 5) * 0.125;
            v[j] = (float) (x0 + i * d + (double) i * i * c * ((j % 3) - 1 + 0.5));
        }
        return v;
    }

    @Test
    void zeroOnALinearTrajectory() {
        RedundancyProfile prof = profile(6, CFG, (i, r) -> polynomial(i, r, 0), true);
        for (Branch b : Branch.values()) {
            ProfileSeries s = prof.series(key(b)).orElseThrow();
            assertEquals(0, s.count(1, 0), "the first column has no step i-1");
            for (int t = 1; t < 5; t++) {
                assertEquals(1, s.count(1, t));
                assertEquals(0.0, s.mean(1, t), 0.0, b + " step " + t);
            }
        }
    }

    @Test
    void exactOnAQuadraticTrajectory() {
        double c = 0.375;
        RedundancyProfile prof = profile(6, CFG, (i, r) -> polynomial(i, r, c), true);
        for (Branch b : Branch.values()) {
            int r = b == Branch.COND ? 0 : 1;
            ProfileSeries s = prof.series(key(b)).orElseThrow();
            for (int t = 1; t < 5; t++) {
                // the second difference of i^2 c k is 2 c k for every step: the forecast misses exactly that
                float[] a = polynomial(t, r, c);
                double miss = 0;
                double abs = 0;
                for (int j = 0; j < WIDTH; j++) {
                    miss += Math.abs(2 * c * ((j % 3) - 1 + 0.5));
                    abs += Math.abs(a[j]);
                }
                assertEquals(miss / abs, s.mean(1, t), 0.0, b + " step " + t);
                assertEquals(ReferenceDistances.forecast(polynomial(t - 1, r, c), a, polynomial(t + 1, r, c)),
                        s.mean(1, t), 0.0);
            }
        }
    }

    @Test
    void matchesTheFloat64ReferenceOnRandomSequencesPerBranch() {
        Random rnd = new Random(5);
        int steps = 7;
        float[][][] x = new float[steps][2][WIDTH];
        for (int i = 0; i < steps; i++) {
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < WIDTH; j++) {
                    x[i][r][j] = (float) (Math.sin(0.4 * i + j + 3 * r) + 0.05 * rnd.nextGaussian());
                }
            }
        }
        RedundancyProfile prof = profile(steps, CFG, (i, r) -> x[i][r], true);
        for (Branch b : Branch.values()) {
            int r = b.ordinal();
            ProfileSeries s = prof.series(key(b)).orElseThrow();
            for (int t = 1; t < steps - 1; t++) {
                double want = ReferenceDistances.forecast(x[t - 1][r], x[t][r], x[t + 1][r]);
                assertEquals(want, s.mean(1, t), 1e-12 * want, b + " step " + t);
            }
            // the step-to-step metrics are unchanged by measuring the forecast error
            ProfileSeries l1 = prof.series(new SeriesKey(SiteKind.ATTN_OUT, TokenStream.IMAGE, b,
                    DistanceMetric.L1_REL)).orElseThrow();
            assertEquals(ReferenceDistances.value(DistanceMetric.L1_REL, x[2][r], x[3][r]), l1.mean(1, 2), 1e-12);
        }
    }

    @Test
    void aGapRestartsTheForecastAndRowsPairBySampleNotRow() {
        int steps = 6;
        RedundancyProfile prof = new RedundancyProfile(Map.of("name", "toy"), Map.of(), 2, steps);
        StreamingProfiler p = new StreamingProfiler(prof, EnumSet.of(SiteKind.ATTN_OUT), true);
        for (int i : new int[] {0, 1, 3, 4, 5}) { // no call at step 2
            // the branches swap places at step 4: pairing is by sample and branch, not by row
            List<Branch> rows = i == 4 ? List.of(Branch.UNCOND, Branch.COND) : CFG;
            float[] all = new float[2 * WIDTH];
            for (int r = 0; r < 2; r++) {
                int sample = rows.get(r).ordinal();
                System.arraycopy(polynomial(i, sample, 0.5), 0, all, r * WIDTH, WIDTH);
            }
            try (PointerScope scope = new PointerScope()) {
                p.observe(new Step(i, steps, 1000 - i, rows), SITE, Tensors.fromFloats(all, 2, WIDTH));
            }
        }
        p.endRun();
        for (Branch b : Branch.values()) {
            ProfileSeries s = prof.series(key(b)).orElseThrow();
            assertEquals(0, s.count(1, 1));
            assertEquals(0, s.count(1, 2));
            assertEquals(0, s.count(1, 3), "steps 3 and 4 follow the gap: no step i-1 for column 3");
            assertEquals(1, s.count(1, 4));
            assertEquals(ReferenceDistances.forecast(polynomial(3, b.ordinal(), 0.5), polynomial(4, b.ordinal(), 0.5),
                    polynomial(5, b.ordinal(), 0.5)), s.mean(1, 4), 0.0);
        }
    }

    @Test
    void measuredOnlyWhenAskedAndWrittenWhereOlderReadersLookPastIt(@TempDir Path dir) throws Exception {
        RedundancyProfile plain = profile(4, CFG, (i, r) -> polynomial(i, r, 0.5), false);
        assertTrue(plain.series().stream().noneMatch(s -> s.key().metric() == DistanceMetric.FORECAST_L1_REL));

        RedundancyProfile prof = profile(4, CFG, (i, r) -> polynomial(i, r, 0.5), true);
        Path file = dir.resolve("profile.json");
        prof.writeJson(file);
        com.fasterxml.jackson.databind.JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(file.toFile());
        for (com.fasterxml.jackson.databind.JsonNode s : root.get("series")) {
            assertTrue(DistanceMetric.stepToStep().contains(DistanceMetric.valueOf(s.get("metric").asText())),
                    "\"series\" holds only the metrics every reader knows: " + s.get("metric"));
        }
        assertEquals(2, root.get("forecast_series").size());
        RedundancyProfile back = RedundancyProfile.readJson(file);
        for (Branch b : Branch.values()) {
            assertEquals(prof.series(key(b)).orElseThrow().mean(1, 2), back.series(key(b)).orElseThrow().mean(1, 2),
                    0.0);
        }
        assertEquals(prof.series().size(), back.series().size());
        assertFalse(Files.readString(file).isEmpty());
    }
}
