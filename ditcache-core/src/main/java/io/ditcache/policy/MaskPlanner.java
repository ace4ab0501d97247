package io.ditcache.policy;

import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.RedundancyProfile;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Chooses a {@link ComputeMask} from a {@link ReuseErrorModel}: the cells to reuse, for a compute budget or an
 * error target.
 *
 * <p>Greedy: start with every cell computed and repeatedly reuse the computed cell whose reuse adds the least
 * estimated error per unit of cost it saves (its block's {@link io.ditcache.Block#cost()}: a FLUX double block
 * saves more than a single one; all blocks weigh alike by default); ties go to the lowest step, then the lowest
 * layer. The budget counts cost, not cells. Step 0 always computes. Reusing cell
 * {@code (j, l)}, computed with the previous computed step {@code k} and the next one {@code k'} (or the end of
 * the run, {@code N}), joins two runs of reused cells into one: every step {@code t} in {@code j .. k'-1} then
 * counts from {@code k} instead of {@code j}, so the error grows by exactly
 *
 * <pre>  (k' - j) * e(l, k, j)</pre>
 *
 * and only the computed neighbours {@code k} and {@code k'} of the same layer change their own increase. The
 * budget and the target walk the same order, so a target's mask is the budget mask of the fraction it reaches.
 *
 * <p>Budgets per block group ({@link #planForGroupBudgets}) plan each group on its own, e.g. a video model's
 * {@link BlockGroup#SPATIAL} and {@link BlockGroup#TEMPORAL} blocks: a layer's increase depends only on its own
 * cells, so the greedy restricted to a group's layers, run to that group's budget, gives exactly the cells the
 * greedy would reuse there; groups without a budget compute everything.
 */
public final class MaskPlanner {
    private final ReuseErrorModel model;
    private final double[] costs;
    private final double totalCost;

    /** A planner over blocks of equal cost. */
    public MaskPlanner(ReuseErrorModel model) {
        this(model, (double[]) null);
    }

    /**
     * A planner weighing the blocks by {@code costs}.
     *
     * @param costs per layer of the model, finite and {@code > 0}; null for all 1
     */
    public MaskPlanner(ReuseErrorModel model, double[] costs) {
        this.model = Objects.requireNonNull(model, "model");
        if (costs != null && costs.length != model.layers()) {
            throw new IllegalArgumentException("the model has " + model.layers() + " layers but " + costs.length
                    + " layer costs were given");
        }
        this.costs = costs == null ? null : costs.clone();
        double total = 0;
        for (int l = 0; l < model.layers(); l++) {
            double c = cost(l);
            if (!(c > 0) || !Double.isFinite(c)) {
                throw new IllegalArgumentException("layer " + l + " cost " + c + ": expected a finite number > 0");
            }
            total += c;
        }
        this.totalCost = total;
    }

    /** A planner for a model of {@code layout}'s blocks, weighed by their costs. */
    public MaskPlanner(ReuseErrorModel model, BlockLayout layout) {
        this(model, layout.costs());
    }

    private double cost(int layer) {
        return costs == null ? 1 : costs[layer];
    }

    /**
     * The mask computing at most {@code budget} of a {@code steps}-step run's block evaluations, planned from
     * {@code profile} ({@link ReuseErrorModel#fromProfile}).
     */
    public static ComputeMask forBudget(RedundancyProfile profile, int steps, double budget) {
        return new MaskPlanner(ReuseErrorModel.fromProfile(profile, steps)).planForBudget(budget);
    }

    /**
     * The mask of a {@code steps}-step run whose estimated error stays within {@code maxError}, planned from
     * {@code profile} ({@link ReuseErrorModel#fromProfile}).
     */
    public static ComputeMask forTarget(RedundancyProfile profile, int steps, double maxError) {
        return new MaskPlanner(ReuseErrorModel.fromProfile(profile, steps)).planForTarget(maxError);
    }

    /** {@link #forBudget(RedundancyProfile, int, double)} for blocks weighed by {@code layout}'s costs. */
    public static ComputeMask forBudget(RedundancyProfile profile, BlockLayout layout, int steps, double budget) {
        return new MaskPlanner(ReuseErrorModel.fromProfile(profile, steps), layout).planForBudget(budget);
    }

    /** {@link #forTarget(RedundancyProfile, int, double)} for blocks weighed by {@code layout}'s costs. */
    public static ComputeMask forTarget(RedundancyProfile profile, BlockLayout layout, int steps, double maxError) {
        return new MaskPlanner(ReuseErrorModel.fromProfile(profile, steps), layout).planForTarget(maxError);
    }

    /**
     * Reuses cells in greedy order until the computed fraction is at most {@code budget}.
     *
     * @param budget fraction of block evaluations to compute (by cost), in (0, 1], at least {@code 1/steps}
     *               (step 0)
     */
    public ComputeMask planForBudget(double budget) {
        ComputeMask.Budget criterion = new ComputeMask.Budget(budget);
        long cells = (long) model.steps() * model.layers();
        double least = (double) model.layers() / cells;
        if (budget < least) {
            throw new IllegalArgumentException("budget " + budget + " is below " + least + ", the fraction step 0 "
                    + "alone computes in a " + model.steps() + "-step run (step 0 runs every block)");
        }
        Greedy g = new Greedy();
        while (g.computedFraction(cells) > budget) {
            g.reuseCheapest();
        }
        return new ComputeMask(g.compute, costs, criterion, model.cost(g.compute), model.source());
    }

    /**
     * Reuses cells in greedy order while the estimated error stays within {@code maxError}.
     *
     * @param maxError finite, >= 0
     */
    public ComputeMask planForTarget(double maxError) {
        ComputeMask.TargetError criterion = new ComputeMask.TargetError(maxError);
        Greedy g = new Greedy();
        while (g.hasCandidate() && g.costAfterCheapest() <= maxError) {
            g.reuseCheapest();
        }
        return new ComputeMask(g.compute, costs, criterion, model.cost(g.compute), model.source());
    }

    /** {@link #planForGroupBudgets} for blocks weighed by {@code layout}'s costs, planned from {@code profile}. */
    public static ComputeMask forGroupBudgets(RedundancyProfile profile, BlockLayout layout, int steps,
            Map<BlockGroup, Double> budgets) {
        return new MaskPlanner(ReuseErrorModel.fromProfile(profile, steps), layout)
                .planForGroupBudgets(layout, budgets);
    }

    /**
     * Reuses cells of each budgeted group's blocks in greedy order until the group's computed fraction (by cost,
     * over that group's block evaluations) is at most its budget; the blocks of groups without a budget all compute.
     * The mask records as its {@link ComputeMask.Budget} the overall computed fraction it reached (the mask file
     * format is the same as for one budget).
     *
     * @param layout  the model's blocks (one per layer of the error model), giving each layer's group
     * @param budgets per group, a fraction in (0, 1], at least {@code 1/steps} (step 0); at least one group, each
     *                present in {@code layout}
     */
    public ComputeMask planForGroupBudgets(BlockLayout layout, Map<BlockGroup, Double> budgets) {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(budgets, "budgets");
        if (layout.size() != model.layers()) {
            throw new IllegalArgumentException("the layout has " + layout.size() + " blocks but the model "
                    + model.layers() + " layers");
        }
        if (budgets.isEmpty()) {
            throw new IllegalArgumentException("no group budget given; expected at least one of the layout's groups");
        }
        double least = 1.0 / model.steps();
        boolean[][] compute = new boolean[model.steps()][model.layers()];
        for (boolean[] row : compute) {
            java.util.Arrays.fill(row, true);
        }
        for (Map.Entry<BlockGroup, Double> e : budgets.entrySet()) {
            BlockGroup group = Objects.requireNonNull(e.getKey(), "group");
            double budget = Objects.requireNonNull(e.getValue(), "budget");
            new ComputeMask.Budget(budget); // checks (0, 1]
            if (budget < least) {
                throw new IllegalArgumentException("budget " + budget + " of group " + group + " is below " + least
                        + ", the fraction step 0 alone computes in a " + model.steps() + "-step run");
            }
            boolean[] eligible = new boolean[model.layers()];
            boolean any = false;
            for (int l = 0; l < model.layers(); l++) {
                eligible[l] = layout.block(l).group().equals(group);
                any |= eligible[l];
            }
            if (!any) {
                throw new IllegalArgumentException("group " + group + " has no block in the layout; its groups are "
                        + groups(layout));
            }
            Greedy g = new Greedy(eligible);
            while (g.groupFraction() > budget) {
                g.reuseCheapest();
            }
            for (int t = 0; t < model.steps(); t++) {
                for (int l = 0; l < model.layers(); l++) {
                    if (eligible[l]) {
                        compute[t][l] = g.compute[t][l];
                    }
                }
            }
        }
        double error = model.cost(compute);
        ComputeMask reached = new ComputeMask(compute, costs, new ComputeMask.Budget(1.0), error, model.source());
        return new ComputeMask(compute, costs, new ComputeMask.Budget(reached.computedFraction()), error,
                model.source());
    }

    private static Map<BlockGroup, Integer> groups(BlockLayout layout) {
        Map<BlockGroup, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < layout.size(); i++) {
            out.merge(layout.block(i).group(), 1, Integer::sum);
        }
        return out;
    }

    /** A cell that can still be reused and the error its reuse adds per unit of cost it saves. */
    private record Candidate(double increase, int step, int layer) {
        static final Comparator<Candidate> ORDER = Comparator.comparingDouble(Candidate::increase)
                .thenComparingInt(Candidate::step).thenComparingInt(Candidate::layer);
    }

    /** The greedy's state: the grid, each layer's computed steps as a linked list, and the candidates in order. */
    private final class Greedy {
        final int steps = model.steps();
        final int layers = model.layers();
        final boolean[][] compute = new boolean[steps][layers];
        /** Previous and next computed step of each computed cell ({@code steps} = none after it). */
        final int[][] prev = new int[layers][steps];
        final int[][] next = new int[layers][steps];
        final double[] layerCost = new double[layers];
        final Candidate[][] current = new Candidate[steps][layers];
        final TreeSet<Candidate> candidates = new TreeSet<>(Candidate.ORDER);
        int computed = steps * layers;
        double computedCost = steps * totalCost;
        /** The cost of the layers the greedy may reuse, per step, and of their computed cells. */
        double eligibleCost;
        double computedEligibleCost;

        Greedy() {
            this(null);
        }

        /** @param eligible the layers whose cells may be reused, or null for all */
        Greedy(boolean[] eligible) {
            for (int t = 0; t < steps; t++) {
                java.util.Arrays.fill(compute[t], true);
            }
            for (int l = 0; l < layers; l++) {
                for (int t = 0; t < steps; t++) {
                    prev[l][t] = t - 1;
                    next[l][t] = t + 1;
                }
                if (eligible == null || eligible[l]) {
                    eligibleCost += cost(l);
                    for (int t = 1; t < steps; t++) {
                        update(t, l);
                    }
                }
            }
            computedEligibleCost = steps * eligibleCost;
        }

        /** The computed fraction by cost of the eligible layers' cells. */
        double groupFraction() {
            return computedEligibleCost / (steps * eligibleCost);
        }

        /** The computed fraction by cost; exactly the cell count's fraction where blocks weigh alike. */
        double computedFraction(long cells) {
            return costs == null ? (double) computed / cells : computedCost / (steps * totalCost);
        }

        boolean hasCandidate() {
            return !candidates.isEmpty();
        }

        /** The mask's total error if the cheapest candidate were reused, summed as {@link ReuseErrorModel#cost}. */
        double costAfterCheapest() {
            Candidate c = candidates.first();
            compute[c.step()][c.layer()] = false;
            double changed = model.layerCost(compute, c.layer());
            compute[c.step()][c.layer()] = true;
            double total = 0;
            for (int l = 0; l < layers; l++) {
                total += l == c.layer() ? changed : layerCost[l];
            }
            return total;
        }

        void reuseCheapest() {
            Candidate c = candidates.pollFirst();
            int j = c.step();
            int l = c.layer();
            current[j][l] = null;
            compute[j][l] = false;
            computed--;
            computedCost -= cost(l);
            computedEligibleCost -= cost(l);
            int k = prev[l][j];
            int k2 = next[l][j];
            next[l][k] = k2;
            if (k2 < steps) {
                prev[l][k2] = k;
                update(k2, l);
            }
            if (k > 0) {
                update(k, l);
            }
            layerCost[l] = model.layerCost(compute, l);
        }

        /** Re-ranks computed cell {@code (j, l)} after its neighbours changed. */
        private void update(int j, int l) {
            if (current[j][l] != null) {
                candidates.remove(current[j][l]);
            }
            double increase = (next[l][j] - j) * model.reuseError(l, prev[l][j], j) / cost(l);
            current[j][l] = new Candidate(increase, j, l);
            candidates.add(current[j][l]);
        }
    }
}
