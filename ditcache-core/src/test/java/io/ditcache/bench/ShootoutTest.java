package io.ditcache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ditcache.report.ShootoutReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shootout's arithmetic: medians and the Pareto front. */
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

    @Test
    void settingsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Shootout.Settings(50, 1, 1.25, 0, 10, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new Shootout.Settings(50, 10, 1.25, 0, 10, 0, 1));
    }
}
