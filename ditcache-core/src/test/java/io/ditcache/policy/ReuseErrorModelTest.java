package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReuseErrorModelTest {
    private static final double EPS = 1e-12;

    @Test
    void reusedCellsCostThePathSinceTheirLastComputation() {
        ReuseErrorModel m = new ReuseErrorModel(new double[][] {{1, 2, 3, 4}}, "test");
        boolean[][] compute = {{true}, {false}, {true}, {false}, {false}};
        // step 1 reuses step 0: d0 = 1; step 3 reuses step 2: d2 = 3; step 4 reuses step 2: d2 + d3 = 7
        assertEquals(11.0, m.cost(compute), EPS);
        assertEquals(7.0, m.reuseError(0, 2, 4), EPS);
        assertEquals(0.0, m.cost(new boolean[][] {{true}, {true}, {true}, {true}, {true}}), EPS);
        assertEquals(5, m.steps());
        assertEquals(1, m.layers());
    }

    @Test
    void layersAddUp() {
        ReuseErrorModel m = new ReuseErrorModel(new double[][] {{1, 1}, {10, 10}}, "test");
        boolean[][] compute = {{true, true}, {false, true}, {true, false}};
        // layer 0 reuses step 0 at step 1: 1; layer 1 reuses step 1 at step 2: 10
        assertEquals(1.0 + 10.0, m.cost(compute), EPS);
    }

    @Test
    void sameStepCountReadsTheProfileAsItIs() {
        double[][] d = {{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}};
        ReuseErrorModel m = ReuseErrorModel.fromProfile(ResidualProfiles.of(d), 4);
        for (int l = 0; l < 2; l++) {
            for (int s = 0; s < 3; s++) {
                assertEquals(d[l][s], m.distance(l, s), EPS);
            }
        }
        assertEquals("synthetic/ddim-4", m.source());
    }

    @Test
    void anotherStepCountKeepsTheDistanceTravelled() {
        // 11 steps, distances growing linearly: the cumulative curve is known in closed form
        double[] d = new double[10];
        for (int s = 0; s < d.length; s++) {
            d[s] = s + 1;
        }
        RedundancyProfile p = ResidualProfiles.of(new double[][] {d});
        ReuseErrorModel coarse = ReuseErrorModel.fromProfile(p, 6);
        // a 6-step transition spans two of the profile's: (1+2), (3+4), ...
        assertArrayEquals(new double[] {3, 7, 11, 15, 19}, row(coarse, 0), EPS);
        ReuseErrorModel two = ReuseErrorModel.fromProfile(p, 2);
        assertArrayEquals(new double[] {55}, row(two, 0), EPS);
        ReuseErrorModel fine = ReuseErrorModel.fromProfile(p, 21);
        // each profile transition splits in two halves
        assertEquals(0.5, fine.distance(0, 0), EPS);
        assertEquals(5.0, fine.distance(0, 19), EPS);
        assertEquals(55.0, java.util.Arrays.stream(row(fine, 0)).sum(), 1e-9);
    }

    @Test
    void aFiftyStepProfilePredictsTenStepDistances() {
        // the measurement behind the carry-over rule (ReuseErrorModel's Javadoc), on the default model
        for (String scheduler : new String[] {"ddim", "dpmpp"}) {
            ReuseErrorModel predicted = ReuseErrorModel.fromProfile(ResidualProfiles.real(scheduler + "-50"), 10);
            ReuseErrorModel measured = ReuseErrorModel.fromProfile(ResidualProfiles.real(scheduler + "-10"), 10);
            double logError = 0;
            for (int l = 0; l < 6; l++) {
                for (int s = 0; s < 9; s++) {
                    logError += Math.abs(Math.log(predicted.distance(l, s) / measured.distance(l, s)));
                }
            }
            double factor = Math.exp(logError / (6 * 9));
            assertTrue(factor < 1.45, scheduler + ": geometric-mean factor " + factor);
        }
    }

    @Test
    void aProfileWithoutBlockResidualsIsRefused() {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "m"), Map.of(), 2, 5);
        p.add(SeriesKey.of(SiteKind.BLOCK_RESIDUAL, DistanceMetric.COSINE), 0, 0, 0.1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReuseErrorModel.fromProfile(p, 5));
        assertTrue(e.getMessage().contains("BLOCK_RESIDUAL/IMAGE/COND/L1_REL"), e.getMessage());
        assertTrue(e.getMessage().contains("COSINE"), e.getMessage());
    }

    @Test
    void aCellWithoutObservationsIsRefused() {
        RedundancyProfile p = ResidualProfiles.of(new double[][] {{0.1, 0.2, 0.3}, {0.1, 0.2, 0.3}});
        RedundancyProfile holed = new RedundancyProfile(p.model(), p.scheduler(), 2, 4);
        holed.add(ReuseErrorModel.SERIES, 0, 0, 0.1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReuseErrorModel.fromProfile(holed, 4));
        assertTrue(e.getMessage().contains("layer 0, step 1"), e.getMessage());
    }

    @Test
    void badDistancesAndShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ReuseErrorModel(new double[][] {{0.1, -0.1}}, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new ReuseErrorModel(new double[][] {{0.1, Double.NaN}}, "x"));
        assertThrows(IllegalArgumentException.class, () -> new ReuseErrorModel(new double[][] {{0.1}, {}}, "x"));
        assertThrows(IllegalArgumentException.class, () -> new ReuseErrorModel(new double[][] {{}}, "x"));
        ReuseErrorModel m = new ReuseErrorModel(new double[][] {{1, 2}}, "x");
        assertThrows(IllegalArgumentException.class, () -> m.cost(new boolean[][] {{true}, {true}}));
        assertThrows(IllegalArgumentException.class, () -> m.cost(new boolean[][] {{false}, {true}, {true}}));
        assertThrows(IllegalArgumentException.class, () -> m.reuseError(0, 2, 2));
        assertThrows(IllegalArgumentException.class,
                () -> ReuseErrorModel.fromProfile(ResidualProfiles.of(new double[][] {{1}}), 1));
    }

    private static double[] row(ReuseErrorModel m, int layer) {
        double[] out = new double[m.steps() - 1];
        for (int s = 0; s < out.length; s++) {
            out[s] = m.distance(layer, s);
        }
        return out;
    }
}
