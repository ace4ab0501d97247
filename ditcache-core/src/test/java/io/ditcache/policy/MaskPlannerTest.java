package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.RedundancyProfile;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MaskPlannerTest {

    @Test
    void cellsOfTinyDistanceAreReusedFirst() {
        // one layer, 10 steps: every transition costs 1 except 3->4 and 6->7
        double[] d = {1, 1, 1, 0.001, 1, 1, 0.002, 1, 1};
        RedundancyProfile p = ResidualProfiles.of(new double[][] {d});
        ComputeMask mask = MaskPlanner.forBudget(p, 10, 0.8);
        for (int t = 0; t < 10; t++) {
            assertEquals(t != 4 && t != 7, mask.computes(t, 0), "step " + t);
        }
        assertEquals(0.003, mask.estimatedError(), 1e-12);
    }

    @Test
    void aQuietLayerIsReusedBeforeBusyOnes() {
        double[][] d = ResidualProfiles.uniform(3, 7, 1.0);
        java.util.Arrays.fill(d[1], 0.01);
        ComputeMask mask = MaskPlanner.forBudget(ResidualProfiles.of(d), 8, 17.0 / 24);
        for (int t = 1; t < 8; t++) {
            assertTrue(mask.computes(t, 0));
            assertFalse(mask.computes(t, 1));
            assertTrue(mask.computes(t, 2));
        }
        // layer 1 reuses step 0 for steps 1..7: 0.01 * (1 + 2 + ... + 7)
        assertEquals(0.28, mask.estimatedError(), 1e-12);
    }

    @Test
    void aFullBudgetComputesEverything() {
        ComputeMask mask = MaskPlanner.forBudget(ResidualProfiles.of(random(4, 9, 1)), 10, 1.0);
        assertEquals(40, mask.computedCount());
        assertEquals(1.0, mask.computedFraction());
        assertEquals(0.0, mask.estimatedError());
        assertEquals(new ComputeMask.Budget(1.0), mask.criterion());
    }

    @Test
    void theBudgetIsMetExactlyOrJustUnder() {
        MaskPlanner planner = new MaskPlanner(new ReuseErrorModel(random(3, 6, 2), "random"));
        int cells = 7 * 3;
        for (double budget : new double[] {1.0, 0.99, 0.9, 0.5, 0.29, 1.0 / 3, 0.2, 1.0 / 7}) {
            ComputeMask mask = planner.planForBudget(budget);
            assertTrue(mask.computedFraction() <= budget, budget + " -> " + mask.computedFraction());
            assertTrue((mask.computedCount() + 1.0) / cells > budget, budget + " -> " + mask.computedCount());
        }
        assertEquals(7, planner.planForBudget(1.0 / 3).computedCount());
        assertEquals(3, planner.planForBudget(1.0 / 7).computedCount());
    }

    @Test
    void stepZeroAlwaysComputes() {
        MaskPlanner planner = new MaskPlanner(new ReuseErrorModel(random(5, 11, 3), "random"));
        for (int n = 5; n <= 60; n++) {
            ComputeMask mask = planner.planForBudget(n / 60.0);
            for (int l = 0; l < 5; l++) {
                assertTrue(mask.computes(0, l));
            }
        }
        ComputeMask least = planner.planForBudget(1.0 / 12);
        assertEquals(5, least.computedCount());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> planner.planForBudget(0.08));
        assertTrue(e.getMessage().contains("budget 0.08"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> planner.planForBudget(0));
        assertThrows(IllegalArgumentException.class, () -> planner.planForBudget(1.01));
        assertThrows(IllegalArgumentException.class, () -> planner.planForBudget(Double.NaN));
    }

    @Test
    void tiesGoToTheLowestStepThenTheLowestLayer() {
        MaskPlanner planner = new MaskPlanner(new ReuseErrorModel(ResidualProfiles.uniform(2, 3, 1.0), "uniform"));
        // every first reuse adds 1: (1, 0) first; then (1, 1) adds 1 and (2, 0) adds 2; then (3, 0) adds 1
        assertReused(planner.planForBudget(7.0 / 8), new int[][] {{1, 0}});
        assertReused(planner.planForBudget(6.0 / 8), new int[][] {{1, 0}, {1, 1}});
        assertReused(planner.planForBudget(5.0 / 8), new int[][] {{1, 0}, {1, 1}, {3, 0}});
    }

    @Test
    void eachReuseIsTheCheapestByExactRecomputation() {
        // the incremental increases of the greedy against a brute-force cost of every possible next reuse
        for (long seed = 10; seed < 14; seed++) {
            double[][] d = random(3, 8, seed);
            ReuseErrorModel model = new ReuseErrorModel(d, "random");
            MaskPlanner planner = new MaskPlanner(model);
            int cells = 9 * 3;
            ComputeMask before = planner.planForBudget(1.0);
            for (int n = cells - 1; n >= 3; n--) {
                ComputeMask after = planner.planForBudget((double) n / cells);
                assertEquals(referenceCost(d, after), after.estimatedError(), 1e-12);
                int[] reused = onlyDifference(before, after);
                double best = Double.POSITIVE_INFINITY;
                for (int t = 1; t < 9; t++) {
                    for (int l = 0; l < 3; l++) {
                        if (before.computes(t, l)) {
                            boolean[][] c = before.compute();
                            c[t][l] = false;
                            best = Math.min(best, referenceCost(d, c));
                        }
                    }
                }
                assertEquals(best, after.estimatedError(), 1e-12, "seed " + seed + ", reusing " + reused[0] + ","
                        + reused[1]);
                before = after;
            }
        }
    }

    @Test
    void theTargetIsNeverExceeded() {
        double[][] d = random(4, 12, 5);
        MaskPlanner planner = new MaskPlanner(new ReuseErrorModel(d, "random"));
        int cells = 13 * 4;
        for (double target : new double[] {0, 0.01, 0.1, 0.5, 1, 2, 5, 10, 100}) {
            ComputeMask mask = planner.planForTarget(target);
            assertTrue(mask.estimatedError() <= target, target + " -> " + mask.estimatedError());
            assertEquals(new ComputeMask.TargetError(target), mask.criterion());
            // the same greedy order: the mask is the budget mask of its fraction, and one more reuse exceeds
            assertTrue(java.util.Arrays.deepEquals(mask.compute(),
                    planner.planForBudget(mask.computedFraction()).compute()));
            if (mask.computedCount() > 4) {
                ComputeMask next = planner.planForBudget((mask.computedCount() - 1.0) / cells);
                assertTrue(next.estimatedError() > target, target + ": next reuse costs " + next.estimatedError());
            }
        }
        assertEquals(cells, planner.planForTarget(0).computedCount());
        assertEquals(4, planner.planForTarget(1e9).computedCount());
        assertThrows(IllegalArgumentException.class, () -> planner.planForTarget(-1));
        assertThrows(IllegalArgumentException.class, () -> planner.planForTarget(Double.POSITIVE_INFINITY));
    }

    @Test
    void zeroDistancesAreFreeUnderAZeroTarget() {
        double[] d = {0.5, 0, 0, 0.5};
        ComputeMask mask = MaskPlanner.forTarget(ResidualProfiles.of(new double[][] {d}), 5, 0);
        assertEquals(0.0, mask.estimatedError());
        // steps 2 and 3 reuse step 1 at no cost
        assertTrue(mask.computes(1, 0));
        assertFalse(mask.computes(2, 0));
        assertFalse(mask.computes(3, 0));
        assertTrue(mask.computes(4, 0));
    }

    @Test
    void aProfileOfAnotherStepCountPlansForTheRunsSteps() {
        double[][] d = random(2, 19, 7);
        RedundancyProfile p = ResidualProfiles.of(d);
        ComputeMask mask = MaskPlanner.forBudget(p, 10, 0.5);
        assertEquals(10, mask.steps());
        assertEquals(2, mask.layers());
        assertEquals(10, mask.computedCount());
        ReuseErrorModel model = ReuseErrorModel.fromProfile(p, 10);
        assertEquals(model.cost(mask), mask.estimatedError(), 0);
        assertEquals(new MaskPlanner(model).planForBudget(0.5), mask);
        assertEquals("synthetic/ddim-20", mask.source());
    }

    @Test
    void theRealProfileComputesLateStepsMore() {
        ComputeMask mask = MaskPlanner.forBudget(ResidualProfiles.real("ddim-50"), 50, 0.5);
        assertEquals(150, mask.computedCount());
        int early = 0;
        int late = 0;
        for (int t = 1; t < 50; t++) {
            for (int l = 0; l < 6; l++) {
                if (mask.computes(t, l)) {
                    if (t < 25) {
                        early++;
                    } else {
                        late++;
                    }
                }
            }
        }
        // the residuals move least early in sampling (the profile's distances grow about tenfold over the run)
        assertTrue(late > early, "early " + early + ", late " + late);
        assertEquals("ditcache-default/ddim-50", mask.source());
    }

    private static void assertReused(ComputeMask mask, int[][] reused) {
        boolean[][] expected = new boolean[mask.steps()][mask.layers()];
        for (boolean[] row : expected) {
            java.util.Arrays.fill(row, true);
        }
        for (int[] c : reused) {
            expected[c[0]][c[1]] = false;
        }
        assertTrue(java.util.Arrays.deepEquals(expected, mask.compute()), mask.grid());
    }

    /** The error model written out directly: every reused cell sums the distances since its layer computed. */
    private static double referenceCost(double[][] d, boolean[][] compute) {
        double total = 0;
        for (int l = 0; l < d.length; l++) {
            for (int t = 1; t < compute.length; t++) {
                if (!compute[t][l]) {
                    int k = t - 1;
                    while (!compute[k][l]) {
                        k--;
                    }
                    for (int s = k; s < t; s++) {
                        total += d[l][s];
                    }
                }
            }
        }
        return total;
    }

    private static double referenceCost(double[][] d, ComputeMask mask) {
        return referenceCost(d, mask.compute());
    }

    private static int[] onlyDifference(ComputeMask before, ComputeMask after) {
        int[] found = null;
        for (int t = 0; t < before.steps(); t++) {
            for (int l = 0; l < before.layers(); l++) {
                if (before.computes(t, l) != after.computes(t, l)) {
                    assertTrue(found == null && before.computes(t, l), "masks differ in more than one reuse");
                    found = new int[] {t, l};
                }
            }
        }
        assertTrue(found != null, "masks are equal");
        return found;
    }

    @Test
    void equalCostsPlanTheSameMaskAsNoCosts() {
        ReuseErrorModel model = new ReuseErrorModel(random(4, 9, 3), "random");
        for (double budget : new double[] {0.9, 0.5, 0.2}) {
            assertEquals(new MaskPlanner(model).planForBudget(budget),
                    new MaskPlanner(model, new double[] {7, 7, 7, 7}).planForBudget(budget), "budget " + budget);
        }
        assertEquals(new MaskPlanner(model).planForTarget(1.5), new MaskPlanner(model, io.ditcache.BlockLayout.plain(4))
                .planForTarget(1.5));
    }

    @Test
    void costlyBlocksAreReusedFirstAndTheBudgetCountsCost() {
        // two layers alike in error; layer 1 costs 3 times layer 0 (a FLUX double block against a single one)
        double[][] d = ResidualProfiles.uniform(2, 5, 0.1);
        ReuseErrorModel model = new ReuseErrorModel(d, "alike");
        MaskPlanner planner = new MaskPlanner(model, new double[] {1, 3});
        // one reused cell of layer 1 saves 3 of the run's 24: the first cell the planner gives up is there
        ComputeMask first = planner.planForBudget(21.0 / 24);
        assertEquals(11, first.computedCount());
        assertFalse(first.computes(1, 1), first.grid());
        // unweighted, the same error per cell ties to layer 0, and a cost budget would need three of its cells
        assertFalse(new MaskPlanner(model).planForBudget(11.0 / 12).computes(1, 0));
        ComputeMask mask = planner.planForBudget(0.5);
        assertTrue(mask.computedFraction() <= 0.5, "by cost: " + mask.computedFraction());
        double cost = 0;
        for (int t = 0; t < 6; t++) {
            cost += (mask.computes(t, 0) ? 1 : 0) + (mask.computes(t, 1) ? 3 : 0);
        }
        assertEquals(cost / (4 * 6), mask.computedFraction(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new MaskPlanner(model, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new MaskPlanner(model, new double[] {1, 0}));
    }

    private static double[][] random(int layers, int transitions, long seed) {
        Random r = new Random(seed);
        double[][] d = new double[layers][transitions];
        for (double[] row : d) {
            for (int s = 0; s < transitions; s++) {
                row[s] = r.nextDouble();
            }
        }
        return d;
    }
}
