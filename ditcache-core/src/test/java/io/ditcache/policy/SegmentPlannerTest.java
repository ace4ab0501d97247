package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The LeMiCa-style planner against exhaustive search over every plan of small runs: the least largest segment error,
 * then the least sum; and the checks of measured segment errors.
 */
class SegmentPlannerTest {
    private static SegmentErrors random(Random r, int steps, int maxLength) {
        double[][] e = new double[steps][];
        for (int from = 0; from < steps; from++) {
            e[from] = new double[Math.max(0, Math.min(maxLength, steps - from) - 1)];
            for (int k = 0; k < e[from].length; k++) {
                // a few ties, so that the sum has to break them
                e[from][k] = r.nextInt(4) == 0 ? 0.5 : r.nextDouble();
            }
        }
        return new SegmentErrors(steps, maxLength, e, "test");
    }

    /** {largest, sum} of the best plan with {@code computes} computed steps, by trying every subset of steps. */
    private static double[] bruteForce(SegmentErrors e, int computes) {
        int n = e.steps();
        double[] best = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
        for (int mask = 0; mask < 1 << n; mask++) {
            if ((mask & 1) == 0 || Integer.bitCount(mask) != computes) {
                continue;
            }
            double worst = 0;
            double sum = 0;
            boolean ok = true;
            for (int s = 0; s < n && ok; s++) {
                if ((mask >> s & 1) == 0) {
                    continue;
                }
                int to = s + 1;
                while (to < n && (mask >> to & 1) == 0) {
                    to++;
                }
                ok = e.covers(s, to);
                if (ok) {
                    worst = Math.max(worst, e.error(s, to));
                    sum += e.error(s, to);
                }
            }
            if (ok && (worst < best[0] || worst == best[0] && sum < best[1])) {
                best = new double[] {worst, sum};
            }
        }
        return best;
    }

    @Test
    void minimaxThenLeastSumAgainstBruteForce() {
        Random r = new Random(14);
        for (int trial = 0; trial < 200; trial++) {
            int steps = 3 + r.nextInt(8);
            int maxLength = 2 + r.nextInt(steps - 1);
            SegmentErrors e = random(r, steps, maxLength);
            SegmentPlanner p = new SegmentPlanner(e);
            for (int k = p.minComputes(); k <= steps; k++) {
                int[] plan = p.computedSteps(k);
                assertEquals(k, plan.length);
                assertEquals(0, plan[0]);
                for (int i = 1; i < plan.length; i++) {
                    assertTrue(plan[i] > plan[i - 1] && plan[i] - plan[i - 1] <= maxLength);
                }
                assertTrue(steps - plan[plan.length - 1] <= maxLength);
                double[] want = bruteForce(e, k);
                double[] got = p.cost(plan);
                assertEquals(want[0], got[0], 0, "largest, trial " + trial + " k " + k);
                assertEquals(want[1], got[1], 1e-12, "sum, trial " + trial + " k " + k);
            }
        }
    }

    /** Where the least sum puts one bad segment in a plan and the minimax plan spreads the error. */
    @Test
    void prefersTheSmallerLargestErrorOverTheSmallerSum() {
        // 4 steps, 2 computed: {0, 1} (segments 0..1, 1..4), {0, 2} (0..2, 2..4) or {0, 3} (0..3, 3..4)
        double e02 = 2.0;
        double e24 = 2.0;
        double e14 = 3.0;
        double[][] e = {{e02, 0.9}, {1.0, e14}, {e24}, {}}; // 0..3 costs 0.9: {0, 3} is best both ways
        SegmentErrors errors = new SegmentErrors(4, 3, e, "test");
        assertArrayEquals(new int[] {0, 3}, new SegmentPlanner(errors).computedSteps(2));
        e[0][1] = 2.5; // 0..3 now 2.5: {0, 2}: largest 2.0 (sum 4.0) beats {0, 3}: largest 2.5 (sum 2.5)
        assertArrayEquals(new int[] {0, 2}, new SegmentPlanner(new SegmentErrors(4, 3, e, "test"))
                .computedSteps(2));
    }

    @Test
    void budgetMaskComputesWholeSteps() {
        SegmentErrors e = random(new Random(3), 10, 4);
        ComputeMask m = new SegmentPlanner(e).planForBudget(0.5, 3);
        assertEquals(10, m.steps());
        assertEquals(3, m.layers());
        assertEquals(0.5, m.computedFraction(), 1e-12);
        for (int s = 0; s < 10; s++) {
            assertEquals(m.computes(s, 0), m.computes(s, 2));
            assertEquals(m.computes(s, 0) ? CellDecision.COMPUTE : CellDecision.REUSE_BLOCK, m.decision(s, 1));
        }
        assertEquals(5, new SegmentPlanner(e).computesFor(0.5));
        assertTrue(new SegmentPlanner(e).allows(0.3), "3 computes, segments of 4 span 10 steps");
        assertTrue(!new SegmentPlanner(e).allows(0.2), "2 computes cannot");
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> new SegmentPlanner(e).planForBudget(0.2, 3));
        assertTrue(small.getMessage().contains("segments of at most 4 steps need 3"), small.getMessage());
    }

    @Test
    void checksItsErrors() {
        assertThrows(IllegalArgumentException.class, () -> new SegmentErrors(3, 4, new double[3][], "x"));
        IllegalArgumentException wrongCount = assertThrows(IllegalArgumentException.class,
                () -> new SegmentErrors(3, 2, new double[][] {{0.1, 0.2}, {0.1}, {}}, "x"));
        assertTrue(wrongCount.getMessage().contains("step 0: 2 segment errors, expected 1"), wrongCount.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> new SegmentErrors(3, 2, new double[][] {{Double.NaN}, {0.1}, {}}, "x"));
        assertTrue(nan.getMessage().contains("segment 0..2: error NaN"), nan.getMessage());
        SegmentErrors ok = new SegmentErrors(3, 2, new double[][] {{0.1}, {0.2}, {}}, "x");
        assertEquals(0, ok.error(1, 2));
        assertEquals(0.2, ok.error(1, 3));
        assertThrows(IllegalArgumentException.class, () -> ok.error(0, 3));
        assertEquals(3, SegmentErrors.candidates(4, 2).size());
    }
}
