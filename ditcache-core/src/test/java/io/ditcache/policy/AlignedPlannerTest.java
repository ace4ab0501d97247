package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The step-aligned planner against exhaustive search over every aligned plan, each charged by the per-block
 * {@link CellErrorModel} at every block (not by the summed model the planner plans on): budgets and targets reach
 * the optimum, and every step treats every block alike.
 */
class AlignedPlannerTest {
    private static final int STEPS = 7;
    /** Three blocks of unequal cost: the computed share of an aligned plan is its share of computed steps. */
    private static final BlockLayout LAYOUT = BlockLayout.of(3, i -> Block.plain(i, 1 + i));

    private static double[][] random(Random r) {
        double[][] d = new double[LAYOUT.size()][STEPS - 1];
        for (double[] row : d) {
            for (int s = 0; s < row.length; s++) {
                row[s] = 0.05 + r.nextDouble();
            }
        }
        return d;
    }

    /** Each aligned plan as {computed fraction, error at every block}. */
    private static List<double[]> all(CellErrorModel m, Set<CellDecision> allowed) {
        List<CellDecision> options = new ArrayList<>(List.of(CellDecision.COMPUTE));
        allowed.stream().filter(CellDecision::skipsBlock).sorted().forEach(options::add);
        List<double[]> out = new ArrayList<>();
        int n = (int) Math.pow(options.size(), STEPS - 1);
        for (int code = 0; code < n; code++) {
            CellDecision[] plan = new CellDecision[STEPS];
            plan[0] = CellDecision.COMPUTE;
            int computed = 1;
            for (int t = 1, c = code; t < STEPS; t++, c /= options.size()) {
                plan[t] = options.get(c % options.size());
                computed += plan[t] == CellDecision.COMPUTE ? 1 : 0;
            }
            double e = 0;
            for (int l = 0; l < LAYOUT.size(); l++) {
                e += m.layerError(plan, l, 0.5, 0.5);
            }
            out.add(new double[] {(double) computed / STEPS, e});
        }
        return out;
    }

    private static double error(CellErrorModel m, ComputeMask mask) {
        double e = 0;
        for (int l = 0; l < LAYOUT.size(); l++) {
            CellDecision[] plan = new CellDecision[STEPS];
            for (int t = 0; t < STEPS; t++) {
                plan[t] = mask.decision(t, l);
            }
            e += m.layerError(plan, l, 0.5, 0.5);
        }
        return e;
    }

    private static void assertAligned(ComputeMask mask) {
        for (int t = 0; t < STEPS; t++) {
            for (int l = 1; l < LAYOUT.size(); l++) {
                assertEquals(mask.decision(t, 0), mask.decision(t, l), mask.grid());
            }
            assertTrue(!mask.decision(t, 0).reusesParts(), mask.grid());
        }
    }

    private static void assertOptimal(CellErrorModel m, Set<CellDecision> allowed) {
        List<double[]> all = all(m, allowed);
        AlignedPlanner planner = new AlignedPlanner(m, LAYOUT, allowed, STEPS);
        for (int computed = 1; computed <= STEPS; computed++) {
            double budget = Math.min(1, (double) computed / STEPS + 1e-9);
            double best = all.stream().filter(a -> a[0] <= budget).mapToDouble(a -> a[1]).min().orElseThrow();
            ComputeMask mask = planner.planForBudget(budget);
            assertAligned(mask);
            assertTrue(mask.computedFraction() <= budget, mask.grid());
            assertEquals(best, error(m, mask), 1e-9, "budget " + budget + "\n" + mask.grid());
            assertEquals(best, mask.estimatedError(), 1e-9, "the estimate is the per-block model's error");
        }
        for (double[] a : all.subList(0, Math.min(all.size(), 60))) {
            double target = a[1] + 1e-9;
            double least = all.stream().filter(b -> b[1] <= target).mapToDouble(b -> b[0]).min().orElseThrow();
            ComputeMask mask = planner.planForTarget(target);
            assertAligned(mask);
            assertTrue(error(m, mask) <= target, mask.grid());
            assertEquals(least, mask.computedFraction(), 1e-12, mask.grid());
        }
    }

    @Test
    void aPlanOfReuseAndForecastsReachesTheOptimumOverAllAlignedPlans() {
        Random r = new Random(30);
        for (int trial = 0; trial < 3; trial++) {
            CellErrorModel m = new CellErrorModel(random(r), random(r), random(r), random(r), "test");
            assertOptimal(m, EnumSet.of(CellDecision.REUSE_BLOCK, CellDecision.FORECAST_BLOCK));
            assertOptimal(m, EnumSet.of(CellDecision.REUSE_BLOCK));
        }
    }

    @Test
    void whereEveryReuseIsForecastAndStepsAreWeightedTheOptimumFollows() {
        Random r = new Random(31);
        double[] weights = new double[STEPS];
        for (int t = 0; t < STEPS; t++) {
            weights[t] = 0.1 + 2 * r.nextDouble();
        }
        CellErrorModel m = new CellErrorModel(random(r), null, null, random(r), "test").withStepWeights(weights)
                .withForecastedReuse();
        assertOptimal(m, EnumSet.allOf(CellDecision.class));
    }

    @Test
    void partDecisionsAreLeftOutAndTheLayoutMustMatchTheModel() {
        Random r = new Random(32);
        CellErrorModel m = new CellErrorModel(random(r), random(r), random(r), random(r), "test");
        ComputeMask mask = new AlignedPlanner(m, LAYOUT, EnumSet.allOf(CellDecision.class), 3).planForBudget(0.4);
        assertAligned(mask);
        assertThrows(IllegalArgumentException.class, () -> new AlignedPlanner(m, BlockLayout.plain(2),
                EnumSet.allOf(CellDecision.class), 3));
    }
}
