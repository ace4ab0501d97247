package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Budgets per block group: spatial and temporal blocks (Latte's alternating layout) planned separately, checked by
 * brute force over every mask of a small grid, against planning each group's layers alone, and for the unchanged
 * mask file.
 */
class MaskPlannerGroupTest {
    static final int STEPS = 5;
    static final int LAYERS = 4;

    /** Spatial blocks 0, 2 (cost 3) and temporal blocks 1, 3 (cost 2), as Latte numbers them. */
    static BlockLayout layout() {
        return BlockLayout.of(LAYERS, i -> i % 2 == 0
                ? new Block(i, BlockGroup.SPATIAL, EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                        BlockPart.FEED_FORWARD), false, true, 3.0)
                : new Block(i, BlockGroup.TEMPORAL, EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD),
                        false, true, 2.0));
    }

    static double[][] distances(long seed) {
        Random r = new Random(seed);
        double[][] d = new double[LAYERS][STEPS - 1];
        for (double[] row : d) {
            for (int i = 0; i < row.length; i++) {
                row[i] = 0.01 + r.nextDouble();
            }
        }
        return d;
    }

    /** Computed fraction of {@code group}'s cells, each weighed by its block's cost. */
    static double groupFraction(boolean[][] compute, BlockLayout layout, BlockGroup group) {
        double done = 0;
        double all = 0;
        for (boolean[] row : compute) {
            for (int l = 0; l < row.length; l++) {
                if (layout.block(l).group().equals(group)) {
                    all += layout.block(l).cost();
                    done += row[l] ? layout.block(l).cost() : 0;
                }
            }
        }
        return done / all;
    }

    static boolean[][] grid(ComputeMask m) {
        boolean[][] out = new boolean[m.steps()][m.layers()];
        for (int t = 0; t < m.steps(); t++) {
            for (int l = 0; l < m.layers(); l++) {
                out[t][l] = m.computes(t, l);
            }
        }
        return out;
    }

    @Test
    void eachGroupMeetsItsBudgetAndTheOtherComputesEverythingCheckedByBruteForce() {
        BlockLayout layout = layout();
        for (long seed = 1; seed <= 4; seed++) {
            ReuseErrorModel model = new ReuseErrorModel(distances(seed), "random " + seed);
            MaskPlanner planner = new MaskPlanner(model, layout);
            for (BlockGroup group : new BlockGroup[] {BlockGroup.SPATIAL, BlockGroup.TEMPORAL}) {
                BlockGroup other = group.equals(BlockGroup.SPATIAL) ? BlockGroup.TEMPORAL : BlockGroup.SPATIAL;
                // the group has 2 layers x 4 reusable steps: 8 cells of equal cost, 2^8 masks
                int[] cells = new int[8];
                int n = 0;
                for (int t = 1; t < STEPS; t++) {
                    for (int l = 0; l < LAYERS; l++) {
                        if (layout.block(l).group().equals(group)) {
                            cells[n++] = t * LAYERS + l;
                        }
                    }
                }
                for (int reused = 1; reused <= 8; reused++) {
                    double budget = (10.0 - reused) / 10; // 10 cells of the group, 2 of them at step 0
                    ComputeMask mask = planner.planForGroupBudgets(layout, Map.of(group, budget));
                    boolean[][] got = grid(mask);
                    assertEquals(1.0, groupFraction(got, layout, other), "the other group computes everything");
                    assertEquals(budget, groupFraction(got, layout, group), 1e-12, "met exactly: equal costs");
                    assertEquals(model.cost(got), mask.estimatedError(), 1e-12);
                    assertTrue(mask.computedFraction() <= ((ComputeMask.Budget) mask.criterion()).fraction());

                    double best = Double.POSITIVE_INFINITY;
                    for (int bits = 0; bits < 1 << 8; bits++) {
                        if (Integer.bitCount(bits) != reused) {
                            continue;
                        }
                        boolean[][] c = new boolean[STEPS][LAYERS];
                        for (boolean[] row : c) {
                            java.util.Arrays.fill(row, true);
                        }
                        for (int i = 0; i < 8; i++) {
                            if ((bits >> i & 1) == 1) {
                                c[cells[i] / LAYERS][cells[i] % LAYERS] = false;
                            }
                        }
                        best = Math.min(best, model.cost(c));
                    }
                    assertTrue(mask.estimatedError() >= best - 1e-12, "no mask beats the optimum");
                    if (reused == 1) {
                        // the greedy's first choice is the best single reuse of the group
                        assertEquals(best, mask.estimatedError(), 1e-12, "seed " + seed + " " + group);
                    }
                    if (reused == 8) {
                        assertEquals(best, mask.estimatedError(), 1e-12, "only one mask reuses every cell");
                    }
                }
            }
        }
    }

    @Test
    void aGroupIsPlannedAsItsLayersAloneAndGroupsCombine() {
        BlockLayout layout = layout();
        double[][] d = distances(7);
        MaskPlanner planner = new MaskPlanner(new ReuseErrorModel(d, "random 7"), layout);
        double[][] spatial = {d[0], d[2]};
        double[][] temporal = {d[1], d[3]};
        ComputeMask s = new MaskPlanner(new ReuseErrorModel(spatial, "s")).planForBudget(0.5);
        ComputeMask t = new MaskPlanner(new ReuseErrorModel(temporal, "t")).planForBudget(0.8);
        ComputeMask both = planner.planForGroupBudgets(layout, Map.of(BlockGroup.SPATIAL, 0.5,
                BlockGroup.TEMPORAL, 0.8));
        for (int step = 0; step < STEPS; step++) {
            assertEquals(s.computes(step, 0), both.computes(step, 0));
            assertEquals(t.computes(step, 0), both.computes(step, 1));
            assertEquals(s.computes(step, 1), both.computes(step, 2));
            assertEquals(t.computes(step, 1), both.computes(step, 3));
        }
        assertEquals(s.estimatedError() + t.estimatedError(), both.estimatedError(), 1e-12);
        ComputeMask spatialOnly = planner.planForGroupBudgets(layout, Map.of(BlockGroup.SPATIAL, 0.5));
        ComputeMask temporalOnly = planner.planForGroupBudgets(layout, Map.of(BlockGroup.TEMPORAL, 0.8));
        assertEquals(spatialOnly.estimatedError() + temporalOnly.estimatedError(), both.estimatedError(), 1e-12);
    }

    @Test
    void theMaskFileIsTheSameFormatAndBadGroupsAreNamed(@TempDir Path dir) throws Exception {
        BlockLayout layout = layout();
        MaskPlanner planner = new MaskPlanner(new ReuseErrorModel(distances(3), "random 3"), layout);
        ComputeMask mask = planner.planForGroupBudgets(layout, Map.of(BlockGroup.TEMPORAL, 0.6));
        Path file = dir.resolve("mask.json");
        mask.write(file);
        ComputeMask back = ComputeMask.read(file);
        assertArrayEquals(grid(mask), grid(back));
        assertEquals(mask.criterion(), back.criterion());
        assertTrue(java.nio.file.Files.readString(file).contains("ditcache-mask/2"));

        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> planner.planForGroupBudgets(layout, Map.of()));
        assertTrue(none.getMessage().contains("no group budget"), none.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> planner.planForGroupBudgets(layout, Map.of(BlockGroup.SINGLE, 0.5)));
        assertTrue(missing.getMessage().contains("single") && missing.getMessage().contains("spatial"),
                missing.getMessage());
        IllegalArgumentException low = assertThrows(IllegalArgumentException.class,
                () -> planner.planForGroupBudgets(layout, Map.of(BlockGroup.SPATIAL, 0.1)));
        assertTrue(low.getMessage().contains("0.1") && low.getMessage().contains("spatial"), low.getMessage());
    }
}
