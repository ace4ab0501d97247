package io.ditcache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.report.ShootoutReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shootout's arithmetic: medians, the Pareto front, and the verdict on speedups that the skipped share cannot
 * explain (8.47x at 60 % skipped, ceiling 2.5x, was once drawn as Pareto-optimal).
 */
class ShootoutTest {
    static ShootoutRow row(String name, double speedup, double psnr) {
        return new ShootoutRow(name, "", speedup, 0, psnr, 1, 0, Double.NaN, Double.NaN, 1, 1, Map.of());
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Shootout.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Shootout.median(new double[] {4, 1, 3, 2}));
    }

    @Test
    void theParetoFrontKeepsRowsNothingBeatsInBoth() {
        ShootoutRow exact = row("none", 1.0, Double.POSITIVE_INFINITY);
        ShootoutRow a = row("a", 1.5, 40);
        ShootoutRow b = row("b", 2.0, 35);
        ShootoutRow dominated = row("c", 1.8, 30);
        ShootoutRow fast = row("d", 3.0, 20);
        assertEquals(List.of(exact, a, b, fast), ShootoutReport.paretoFront(List.of(fast, dominated, b, a, exact)));
    }

    static ShootoutRow noise(String name, double speedup, double psnr, double skipped) {
        return new ShootoutRow(name, "", speedup, skipped, psnr, 1, 0, Double.NaN, Double.NaN, 1, speedup, Map.of(),
                new ShootoutRow.Spread(speedup / 2, speedup, speedup * 2, 7), true);
    }

    @Test
    void theCeilingIsWhatTheSkippedShareAllows() {
        assertEquals(2.5, Shootout.speedupCeiling(0.6, 0), 1e-12, "1 / (1 - 0.6)");
        assertEquals(1.0, Shootout.speedupCeiling(0, 0), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, Shootout.speedupCeiling(1, 0));
        // a fifth of the time is not skippable: 1 / (0.2 + 0.8 * 0.4)
        assertEquals(1 / 0.52, Shootout.speedupCeiling(0.6, 0.2), 1e-12);
        assertEquals(5.0, Shootout.speedupCeiling(1, 0.2), 1e-12, "all blocks skipped: only the fixed part runs");
        assertThrows(IllegalArgumentException.class, () -> Shootout.speedupCeiling(1.2, 0));
        assertThrows(IllegalArgumentException.class, () -> Shootout.speedupCeiling(0.5, Double.NaN));
    }

    @Test
    void anImpossibleSpeedupIsRemeasuredThenCalledNoise() {
        PairedTimings t = new PairedTimings(1, Shootout.speedupCeiling(0.6, 0));
        assertEquals(1, t.pairsWanted(), "the first round: --repeats 1");
        t.add(8.47, 1.0); // the busy machine's figure
        assertTrue(t.impossible());
        int rounds = 0;
        int pairs = 1;
        for (int want = t.pairsWanted(); want > 0; want = t.pairsWanted()) {
            rounds++;
            assertEquals(PairedTimings.MIN_EXTRA_PAIRS, want, "at least 3 pairs per re-measurement");
            for (int k = 0; k < want; k++, pairs++) {
                t.add(8.0 + k, 1.0); // still far above 2.5x
            }
        }
        assertEquals(PairedTimings.MAX_EXTRA_ROUNDS, rounds, "re-measured up to the bound, no further");
        assertEquals(pairs, t.spread().pairs());
        assertTrue(t.impossible(), "still impossible: noise");
        assertEquals(8.0, t.spread().min(), 1e-12);
        assertEquals(10.0, t.spread().max(), 1e-12);
        assertEquals(Shootout.median(new double[] {8.47, 8, 9, 10, 8, 9, 10}), t.spread().median(), 1e-12);
    }

    @Test
    void aSpeedupThatSettlesOnRemeasuringIsKept() {
        PairedTimings t = new PairedTimings(1, Shootout.speedupCeiling(0.6, 0));
        t.pairsWanted();
        t.add(8.47, 1.0);
        int want = t.pairsWanted();
        assertEquals(3, want);
        for (int k = 0; k < want; k++) {
            t.add(2.0, 1.0);
        }
        assertEquals(0, t.pairsWanted(), "the median of 4 pairs is 2x, below 2.5x");
        assertFalse(t.impossible());
        assertEquals(1, t.extraRounds());
        assertEquals(2.0, t.speedup(), 1e-12);
    }

    @Test
    void aPlausibleSpeedupIsNotRemeasured() {
        PairedTimings t = new PairedTimings(3, Shootout.speedupCeiling(0.5, 0));
        assertEquals(3, t.pairsWanted());
        t.add(2.0, 1.0);
        t.add(2.1, 1.0);
        t.add(2.15, 1.0); // 2.1x median: above 2x, within the tolerance
        assertEquals(0, t.pairsWanted());
        assertEquals(0, t.extraRounds());
        assertFalse(t.impossible());
    }

    @Test
    void noiseRowsTakeNoPartInTheParetoFront() {
        ShootoutRow a = row("a", 1.5, 40);
        ShootoutRow b = row("b", 2.0, 35);
        ShootoutRow busy = noise("busy", 8.47, 38, 0.6);
        assertEquals(List.of(a, b), ShootoutReport.paretoFront(List.of(a, b, busy)),
                "the noise row would dominate b but is left out");
        assertEquals(ShootoutRow.NOISE_NOTE, busy.note());
        assertEquals("", a.note());
    }

    @Test
    void settingsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Shootout.Settings(50, 1, 1.25, 0, 10, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new Shootout.Settings(50, 10, 1.25, 0, 10, 0, 1));
    }
}
