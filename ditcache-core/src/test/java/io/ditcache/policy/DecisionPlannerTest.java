package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The decision planner against exhaustive search: on small grids, for each decision type alone and for all of
 * them, every budget and every target reaches the objective of the best of all assignments, as counted here by
 * following the cached values step by step. On whole-block reuse alone it charges what {@link ReuseErrorModel}
 * charges and never does worse than the greedy {@link MaskPlanner}. Forecasts are charged by how far past their
 * last compute and how far apart their two computes are, and where every reuse is forecast, whole-block reuse too.
 */
class DecisionPlannerTest {
    /** A block with self-attention, cross-attention and feed-forward, twice as costly: shares 2/3 and 1/3. */
    private static final BlockLayout MIXED = new BlockLayout(List.of(Block.plain(0, 1),
            new Block(1, BlockGroup.PLAIN, EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                    BlockPart.FEED_FORWARD), false, true, 2)));

    /** Random distances {@code [layers][steps-1]}. */
    private static double[][] random(Random r, int layers, int steps) {
        double[][] d = new double[layers][steps - 1];
        for (double[] row : d) {
            for (int s = 0; s < row.length; s++) {
                row[s] = 0.05 + r.nextDouble();
            }
        }
        return d;
    }

    private record Problem(double[][] block, double[][] attention, double[][] feedForward, double[][] forecast,
            BlockLayout layout, double[] weights, boolean forecastedReuse) {
        Problem(double[][] block, double[][] attention, double[][] feedForward, double[][] forecast,
                BlockLayout layout) {
            this(block, attention, feedForward, forecast, layout, null, false);
        }

        Problem(double[][] block, double[][] attention, double[][] feedForward, double[][] forecast,
                BlockLayout layout, double[] weights) {
            this(block, attention, feedForward, forecast, layout, weights, false);
        }

        CellErrorModel model() {
            CellErrorModel m = new CellErrorModel(block, attention, feedForward, forecast, "test");
            m = weights == null ? m : m.withStepWeights(weights);
            return forecastedReuse ? m.withForecastedReuse() : m;
        }

        int steps() {
            return block[0].length + 1;
        }

        /** The error of one layer's plan, following each cached value's last computed step. */
        double error(CellDecision[] plan, int l) {
            Set<BlockPart> parts = layout.block(l).parts();
            double wa = parts.stream().filter(BlockPart::isAttention).count() / (double) parts.size();
            double wf = parts.stream().filter(BlockPart::isFeedForward).count() / (double) parts.size();
            int kb = 0;
            int previous = -1; // the compute before kb
            int ka = 0;
            int kf = 0;
            double e = 0;
            for (int t = 1; t < plan.length; t++) {
                CellDecision d = plan[t];
                double w = weights == null ? 1 : weights[t];
                boolean forecasts = d == CellDecision.FORECAST_BLOCK
                        || forecastedReuse && d == CellDecision.REUSE_BLOCK;
                if (d == CellDecision.COMPUTE) {
                    previous = kb;
                    kb = t;
                    ka = t;
                    kf = t;
                } else if (d.skipsBlock() && (!forecasts || previous < 0 || forecast == null)) {
                    e += w * path(block[l], kb, t);
                } else if (d.skipsBlock()) {
                    // the line through the residuals at previous and kb, missing curvature c per step squared
                    // by c h (h + g) / 2 at kb + h; c the mean measured one-step miss from previous + 1 to t - 1
                    int h = t - kb;
                    int g = kb - previous;
                    double c = path(forecast[l], previous + 1, t) / (t - previous - 1);
                    e += w * c * h * (h + g) / 2;
                } else if (forecastedReuse) {
                    return Double.NaN; // part reuse is not charged where reuse is forecast
                } else {
                    if (d != CellDecision.REUSE_FEED_FORWARD) {
                        e += w * wa * path(attention[l], ka, t);
                    }
                    if (d != CellDecision.REUSE_ATTENTION) {
                        e += w * wf * path(feedForward[l], kf, t);
                    }
                    if (d == CellDecision.REUSE_ATTENTION) {
                        kf = t;
                    } else if (d == CellDecision.REUSE_FEED_FORWARD) {
                        ka = t;
                    }
                }
            }
            return e;
        }

        private static double path(double[] d, int from, int to) {
            double s = 0;
            for (int i = from; i < to; i++) {
                s += d[i];
            }
            return s;
        }

        /** The computed share of the run's compute. */
        double fraction(CellDecision[][] grid) {
            double computed = 0;
            double total = 0;
            for (int l = 0; l < layout.size(); l++) {
                total += layout.block(l).cost() * grid.length;
                for (CellDecision[] row : grid) {
                    computed += layout.block(l).cost() * row[l].computedShare(layout.block(l).parts());
                }
            }
            return computed / total;
        }

        double error(CellDecision[][] grid) {
            double e = 0;
            for (int l = 0; l < layout.size(); l++) {
                CellDecision[] plan = new CellDecision[grid.length];
                for (int t = 0; t < grid.length; t++) {
                    plan[t] = grid[t][l];
                }
                e += error(plan, l);
            }
            return e;
        }

        /** Every assignment of the allowed decisions to the cells after step 0: its fraction and error. */
        List<double[]> all(Set<CellDecision> allowed) {
            int layers = layout.size();
            int n = steps();
            List<List<CellDecision>> options = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                List<CellDecision> o = new ArrayList<>();
                for (CellDecision d : CellDecision.values()) {
                    if ((d == CellDecision.COMPUTE || allowed.contains(d)) && d.fits(layout.block(l).parts())) {
                        o.add(d);
                    }
                }
                options.add(o);
            }
            List<double[]> out = new ArrayList<>();
            CellDecision[][] grid = new CellDecision[n][layers];
            java.util.Arrays.fill(grid[0], CellDecision.COMPUTE);
            int cells = (n - 1) * layers;
            int[] digit = new int[cells];
            while (true) {
                for (int c = 0; c < cells; c++) {
                    int l = c % layers;
                    grid[1 + c / layers][l] = options.get(l).get(digit[c]);
                }
                double err = error(grid);
                if (!Double.isNaN(err)) {
                    out.add(new double[] {fraction(grid), err});
                }
                int c = 0;
                while (c < cells && ++digit[c] == options.get(c % layers).size()) {
                    digit[c++] = 0;
                }
                if (c == cells) {
                    return out;
                }
            }
        }
    }

    /** Up to {@code n} values of {@code all}, evenly spread, first and last included. */
    private static List<Double> spread(TreeSet<Double> all, int n) {
        List<Double> list = new ArrayList<>(all);
        if (list.size() <= n) {
            return list;
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(list.get((int) ((long) i * (list.size() - 1) / (n - 1))));
        }
        return out;
    }

    private static void assertMatchesExhaustiveSearch(Problem p, Set<CellDecision> allowed) {
        List<double[]> all = p.all(allowed);
        DecisionPlanner planner = new DecisionPlanner(p.model(), p.layout(), allowed, p.steps());
        TreeSet<Double> fractions = new TreeSet<>();
        TreeSet<Double> errors = new TreeSet<>();
        all.forEach(a -> {
            fractions.add(a[0]);
            errors.add(a[1]);
        });
        for (double f : spread(fractions, 40)) {
            double budget = Math.min(1, f + 1e-9);
            double best = all.stream().filter(a -> a[0] <= budget).mapToDouble(a -> a[1]).min().orElseThrow();
            ComputeMask mask = planner.planForBudget(budget);
            CellDecision[][] grid = mask.decisions();
            String what = allowed + " budget " + budget + "\n" + mask.grid();
            assertTrue(p.fraction(grid) <= budget, what);
            assertEquals(best, p.error(grid), 1e-12, what);
            assertEquals(best, mask.estimatedError(), 1e-12, what);
            assertEquals(p.fraction(grid), mask.computedFraction(), 1e-12, what);
        }
        for (double e : spread(errors, 40)) {
            double target = e + 1e-9;
            double least = all.stream().filter(a -> a[1] <= target).mapToDouble(a -> a[0]).min().orElseThrow();
            ComputeMask mask = planner.planForTarget(target);
            String what = allowed + " target " + target + "\n" + mask.grid();
            assertTrue(p.error(mask.decisions()) <= target, what);
            assertEquals(least, p.fraction(mask.decisions()), 1e-12, what);
        }
    }

    private static final List<Set<CellDecision>> TYPES = List.of(EnumSet.of(CellDecision.REUSE_BLOCK),
            EnumSet.of(CellDecision.REUSE_ATTENTION), EnumSet.of(CellDecision.REUSE_FEED_FORWARD),
            EnumSet.of(CellDecision.REUSE_PARTS), EnumSet.of(CellDecision.FORECAST_BLOCK),
            EnumSet.of(CellDecision.REUSE_BLOCK, CellDecision.FORECAST_BLOCK),
            EnumSet.of(CellDecision.REUSE_ATTENTION, CellDecision.REUSE_FEED_FORWARD, CellDecision.REUSE_PARTS),
            EnumSet.allOf(CellDecision.class));

    @Test
    void eachDecisionTypeReachesTheOptimumOnThreeStepsByTwoBlocks() {
        Random r = new Random(14);
        for (int trial = 0; trial < 4; trial++) {
            for (BlockLayout layout : List.of(BlockLayout.plain(2), MIXED)) {
                Problem p = new Problem(random(r, 2, 3), random(r, 2, 3), random(r, 2, 3), random(r, 2, 3), layout);
                for (Set<CellDecision> types : TYPES) {
                    assertMatchesExhaustiveSearch(p, types);
                }
            }
        }
    }

    @Test
    void everyDecisionTogetherReachesTheOptimumOnFourSteps() {
        Random r = new Random(15);
        for (BlockLayout layout : List.of(BlockLayout.plain(2), MIXED)) {
            Problem p = new Problem(random(r, 2, 4), random(r, 2, 4), random(r, 2, 4), random(r, 2, 4), layout);
            assertMatchesExhaustiveSearch(p, EnumSet.allOf(CellDecision.class));
        }
    }

    @Test
    void stepWeightsScaleEachStepsErrorsAndTheOptimumFollows() {
        Random r = new Random(19);
        for (BlockLayout layout : List.of(BlockLayout.plain(2), MIXED)) {
            double[] weights = {1, 3 * r.nextDouble(), 3 * r.nextDouble(), 0.1};
            Problem p = new Problem(random(r, 2, 4), random(r, 2, 4), random(r, 2, 4), random(r, 2, 4), layout,
                    weights);
            assertMatchesExhaustiveSearch(p, EnumSet.allOf(CellDecision.class));
        }
    }

    @Test
    void withoutAForecastSeriesForecastsAreChargedAsReuseAndNeverChosen() {
        Random r = new Random(16);
        Problem p = new Problem(random(r, 2, 4), random(r, 2, 4), random(r, 2, 4), null, BlockLayout.plain(2));
        assertMatchesExhaustiveSearch(p, EnumSet.of(CellDecision.REUSE_BLOCK, CellDecision.FORECAST_BLOCK));
        for (double budget : new double[] {0.3, 0.5, 0.8}) {
            ComputeMask mask = new DecisionPlanner(p.model(), p.layout(), EnumSet.allOf(CellDecision.class))
                    .planForBudget(budget);
            for (CellDecision[] row : mask.decisions()) {
                for (CellDecision d : row) {
                    assertTrue(d != CellDecision.FORECAST_BLOCK, mask.grid());
                }
            }
        }
    }

    @Test
    void wholeBlockReuseAloneIsChargedAsTheReuseErrorModelAndBeatsTheGreedy() {
        Random r = new Random(17);
        double[][] d = random(r, 3, 14);
        ReuseErrorModel reuse = new ReuseErrorModel(d, "test");
        DecisionPlanner planner = new DecisionPlanner(new CellErrorModel(d, null, null, null, "test"),
                BlockLayout.plain(3), EnumSet.of(CellDecision.REUSE_BLOCK), 13);
        for (double budget : new double[] {0.9, 0.6, 0.45, 0.3, 0.2}) {
            ComputeMask exact = planner.planForBudget(budget);
            ComputeMask greedy = new MaskPlanner(reuse).planForBudget(budget);
            assertEquals(reuse.cost(exact), exact.estimatedError(), 1e-12, "the same error model");
            assertTrue(exact.estimatedError() <= greedy.estimatedError() + 1e-12, "budget " + budget + ": exact "
                    + exact.estimatedError() + ", greedy " + greedy.estimatedError());
            assertTrue(exact.computedFraction() <= budget);
        }
    }

    @Test
    void noCachedValueIsReusedLongerThanTheMaxStaleness() {
        Random r = new Random(18);
        int steps = 20;
        double[][] small = random(r, 2, steps);
        for (double[] row : small) {
            for (int s = 0; s < row.length; s++) {
                row[s] *= 1e-3; // reuse is cheap everywhere: only the staleness bound makes it compute
            }
        }
        Problem p = new Problem(small, small, small, small, BlockLayout.plain(2));
        ComputeMask mask = new DecisionPlanner(p.model(), p.layout(), EnumSet.allOf(CellDecision.class), 4)
                .planForTarget(1e6);
        CellDecision[][] grid = mask.decisions();
        for (int l = 0; l < 2; l++) {
            int kb = 0;
            int ka = 0;
            int kf = 0;
            for (int t = 1; t < steps; t++) {
                CellDecision d = grid[t][l];
                switch (d) {
                    case COMPUTE -> {
                        kb = t;
                        ka = t;
                        kf = t;
                    }
                    case REUSE_BLOCK, FORECAST_BLOCK -> assertTrue(t - kb <= 4, mask.grid());
                    case REUSE_ATTENTION -> {
                        assertTrue(t - ka <= 4, mask.grid());
                        kf = t;
                    }
                    case REUSE_FEED_FORWARD -> {
                        assertTrue(t - kf <= 4, mask.grid());
                        ka = t;
                    }
                    case REUSE_PARTS -> assertTrue(t - ka <= 4 && t - kf <= 4, mask.grid());
                }
            }
        }
        assertTrue(mask.computedFraction() < 0.5, "cheap reuse is taken: " + mask.grid());
    }

    @Test
    void forecastsAcrossGapsAreChargedByTheirHorizonAndReachTheOptimumOnFiveSteps() {
        Random r = new Random(20);
        Problem p = new Problem(random(r, 2, 5), random(r, 2, 5), random(r, 2, 5), random(r, 2, 5),
                BlockLayout.plain(2));
        assertMatchesExhaustiveSearch(p, EnumSet.of(CellDecision.REUSE_BLOCK, CellDecision.FORECAST_BLOCK));
    }

    @Test
    void whereEveryReuseIsForecastWholeBlockReuseIsChargedAsAForecastAndPartsAreNotReused() {
        Random r = new Random(21);
        for (BlockLayout layout : List.of(BlockLayout.plain(2), MIXED)) {
            Problem p = new Problem(random(r, 2, 5), random(r, 2, 5), random(r, 2, 5), random(r, 2, 5), layout,
                    new double[] {1, 2, 0.5, 1.5, 0.2}, true);
            assertMatchesExhaustiveSearch(p, EnumSet.allOf(CellDecision.class));
            for (double budget : new double[] {0.4, 0.6, 0.8}) {
                ComputeMask mask = new DecisionPlanner(p.model(), layout, EnumSet.allOf(CellDecision.class))
                        .planForBudget(budget);
                for (CellDecision[] row : mask.decisions()) {
                    for (CellDecision d : row) {
                        assertTrue(!d.reusesParts(), mask.grid());
                    }
                }
            }
        }
    }

    @Test
    void aForecastIsChargedTheMissOfTheLineThroughItsLastTwoComputes() {
        int steps = 8;
        double[][] residual = new double[1][steps - 1];
        double[][] forecast = new double[1][steps - 1];
        java.util.Arrays.fill(residual[0], 1);
        java.util.Arrays.fill(forecast[0], 0.1);
        CellErrorModel m = new CellErrorModel(residual, null, null, forecast, "test");
        CellDecision c = CellDecision.COMPUTE;
        CellDecision f = CellDecision.FORECAST_BLOCK;
        // computes at 0, 1, 3, 5, 7: forecasts one step ahead, once after a gap of 1, twice after a gap of 2
        assertEquals(0.1 * 1 * 2 / 2 + 2 * 0.1 * 1 * 3 / 2,
                m.layerError(new CellDecision[] {c, c, f, c, f, c, f, c}, 0, 0.5, 0.5), 1e-12);
        // computes at 0, 1, 4: forecasts 1 and 2 steps ahead after a gap of 1, then 1, 2, 3 after a gap of 3
        assertEquals(0.1 * (1 * 2 + 2 * 3) / 2 + 0.1 * (1 * 4 + 2 * 5 + 3 * 6) / 2,
                m.layerError(new CellDecision[] {c, c, f, f, c, f, f, f}, 0, 0.5, 0.5), 1e-12);
        // with only step 0 computed a forecast is a reuse (its path); a plain reuse is charged its path ...
        CellDecision b = CellDecision.REUSE_BLOCK;
        CellDecision[] mixed = {c, f, f, c, b, b, c, c};
        assertEquals(1 + 2 + 1 + 2, m.layerError(mixed, 0, 0.5, 0.5), 1e-12);
        // ... unless every reuse is forecast: then it is a forecast 1 and 2 steps past a gap of 3
        assertEquals(1 + 2 + 0.1 * (1 * 4 + 2 * 5) / 2, m.withForecastedReuse().layerError(mixed, 0, 0.5, 0.5),
                1e-12);
    }
}
