package io.ditcache.policy;

import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.RedundancyProfile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Chooses, per (step, block) cell, what to do among the allowed {@link CellDecision}s: compute, reuse attention
 * and/or feed-forward outputs, reuse or forecast the whole block, by the error each costs ({@link CellErrorModel})
 * against the compute it saves (a block's {@link Block#cost()} times the share of its parts that do not run), for
 * a compute budget or an error target.
 *
 * <p>Exact for its model: each block is planned by dynamic programming over its steps, whose state is how long ago
 * each cached value (the residual, the attention and the feed-forward outputs) was computed, where forecasts are
 * charged by a measured forecast error also how far apart the residual's last two computes are (a forecast's error
 * grows with both, {@link CellErrorModel}), and how much of the block has run so far, giving the least error for
 * every amount of compute the block can spend; the blocks are then combined by merging those fronts (least error
 * for each total compute, dominated totals dropped), and the budget or target picks a point. A cached value is
 * reused at most {@code maxStaleness} steps after it was computed, and forecast only from two computes at most
 * {@code maxStaleness + 1} steps apart; with {@code maxStaleness >= steps - 1} the plan is the optimum over all
 * assignments. Step 0 computes.
 * Ties go to the decision listed first in {@link CellDecision} (compute before part reuse before whole-block reuse
 * before forecasting): a forecast charged as plain reuse (no forecast series) is never chosen over it.
 */
public final class DecisionPlanner {
    /** How many steps after it was computed a cached value may be reused, by default. */
    public static final int DEFAULT_MAX_STALENESS = 10;
    /** Merged fronts longer than this are thinned onto an even grid of total compute (many unequal block costs). */
    static final int FRONT_LIMIT = 200_000;

    private static final CellDecision[] ORDER = CellDecision.values();

    private final CellErrorModel model;
    private final BlockLayout layout;
    private final Set<CellDecision> allowed;
    private final int maxStaleness;
    private final int steps;
    private double[][] fronts;

    /**
     * @param model        the errors, one layer per block of {@code layout}
     * @param layout       the blocks: their parts and costs
     * @param allowed      the decisions the plan may use; {@link CellDecision#COMPUTE} is always allowed. A
     *                     decision a block cannot take (part reuse without parts or without its series in the
     *                     model) is left out for that block
     * @param maxStaleness at least 1
     */
    public DecisionPlanner(CellErrorModel model, BlockLayout layout, Set<CellDecision> allowed, int maxStaleness) {
        this.model = Objects.requireNonNull(model, "model");
        this.layout = Objects.requireNonNull(layout, "layout");
        if (layout.size() != model.layers()) {
            throw new IllegalArgumentException("the layout has " + layout.size() + " blocks but the error model "
                    + model.layers() + " layers");
        }
        this.allowed = EnumSet.of(CellDecision.COMPUTE);
        this.allowed.addAll(Objects.requireNonNull(allowed, "allowed"));
        if (maxStaleness < 1) {
            throw new IllegalArgumentException("max staleness " + maxStaleness + ": expected >= 1");
        }
        this.maxStaleness = maxStaleness;
        this.steps = model.steps();
    }

    /** A planner with {@link #DEFAULT_MAX_STALENESS}. */
    public DecisionPlanner(CellErrorModel model, BlockLayout layout, Set<CellDecision> allowed) {
        this(model, layout, allowed, DEFAULT_MAX_STALENESS);
    }

    /**
     * The mask of a {@code steps}-step run of {@code layout}'s blocks computing at most {@code budget} of the
     * run's compute, with every decision the profile can charge.
     */
    public static ComputeMask forBudget(RedundancyProfile profile, BlockLayout layout, int steps, double budget) {
        return new DecisionPlanner(CellErrorModel.fromProfile(profile, steps), layout,
                EnumSet.allOf(CellDecision.class)).planForBudget(budget);
    }

    /**
     * Computes at most {@code budget} of the run's compute (each cell weighs its block's cost times the share of
     * its parts that run), with the least estimated error.
     *
     * @param budget in (0, 1], at least {@code 1/steps} (step 0)
     */
    public ComputeMask planForBudget(double budget) {
        ComputeMask.Budget criterion = new ComputeMask.Budget(budget);
        if (budget < 1.0 / steps) {
            throw new IllegalArgumentException("budget " + budget + " is below " + 1.0 / steps + ", the fraction "
                    + "step 0 alone computes in a " + steps + "-step run (step 0 runs every block)");
        }
        Front front = merged();
        double limit = budget * steps * totalCost();
        int pick = -1;
        for (int i = 0; i < front.cost.length && front.cost[i] <= limit; i++) {
            pick = i;
        }
        if (pick < 0) {
            throw new IllegalArgumentException("budget " + budget + " cannot be met: reusing a value at most "
                    + maxStaleness + " steps after it was computed, a plan computes at least "
                    + front.cost[0] / (steps * totalCost()) + " of the run");
        }
        return mask(front, pick, criterion);
    }

    /**
     * Spends the least compute whose estimated error stays within {@code maxError}.
     *
     * @param maxError finite, >= 0
     */
    public ComputeMask planForTarget(double maxError) {
        ComputeMask.TargetError criterion = new ComputeMask.TargetError(maxError);
        Front front = merged();
        int pick = front.cost.length - 1;
        for (int i = 0; i < front.cost.length; i++) {
            if (front.error[i] <= maxError) {
                pick = i;
                break;
            }
        }
        return mask(front, pick, criterion);
    }

    private double totalCost() {
        double total = 0;
        for (Block b : layout.blocks()) {
            total += b.cost();
        }
        return total;
    }

    private ComputeMask mask(Front front, int pick, ComputeMask.Criterion criterion) {
        int[] units = front.units(pick);
        CellDecision[][] grid = new CellDecision[steps][layout.size()];
        double error = 0;
        for (int l = 0; l < layout.size(); l++) {
            Layer layer = new Layer(l);
            CellDecision[] plan = layer.plan(units[l]);
            for (int t = 0; t < steps; t++) {
                grid[t][l] = plan[t];
            }
            error += model.layerError(plan, l, layer.attentionShare, layer.feedForwardShare);
        }
        if (criterion instanceof ComputeMask.TargetError e && error > e.maxError()) {
            error = e.maxError(); // the fronts' sums and the recount differ in the last bits only
        }
        return new ComputeMask(grid, layout, criterion, error, model.source());
    }

    /** Per layer, the least error for each number of computed part units ({@code +Infinity}: none). */
    private double[][] fronts() {
        if (fronts == null) {
            fronts = new double[layout.size()][];
            for (int l = 0; l < layout.size(); l++) {
                fronts[l] = new Layer(l).front();
            }
        }
        return fronts;
    }

    /** The blocks' fronts merged: for each reachable total compute, the least total error. */
    private Front merged() {
        double[][] f = fronts();
        Front front = new Front();
        for (int l = 0; l < layout.size(); l++) {
            Layer layer = new Layer(l);
            front = front.with(f[l], layout.block(l).cost() / layer.units);
        }
        return front;
    }

    /** A merged front: points by increasing cost and decreasing error, each with how it was made. */
    private static final class Front {
        final double[] cost;
        final double[] error;
        /** Per merged layer: for each point, the index in the previous front and the layer's units. */
        final List<int[]> previous;
        final List<int[]> chosen;

        Front() {
            this(new double[] {0}, new double[] {0}, new ArrayList<>(), new ArrayList<>());
        }

        private Front(double[] cost, double[] error, List<int[]> previous, List<int[]> chosen) {
            this.cost = cost;
            this.error = error;
            this.previous = previous;
            this.chosen = chosen;
        }

        Front with(double[] layerFront, double unitCost) {
            int n = 0;
            for (double e : layerFront) {
                n += e < Double.POSITIVE_INFINITY ? 1 : 0;
            }
            int size = cost.length * n;
            double[] c = new double[size];
            double[] e = new double[size];
            int[] from = new int[size];
            int[] units = new int[size];
            int k = 0;
            for (int i = 0; i < cost.length; i++) {
                for (int u = 0; u < layerFront.length; u++) {
                    if (layerFront[u] < Double.POSITIVE_INFINITY) {
                        c[k] = cost[i] + u * unitCost;
                        e[k] = error[i] + layerFront[u];
                        from[k] = i;
                        units[k] = u;
                        k++;
                    }
                }
            }
            Integer[] order = new Integer[size];
            for (int i = 0; i < size; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> c[a] != c[b] ? Double.compare(c[a], c[b]) : Double.compare(e[a], e[b]));
            double span = size == 0 ? 0 : c[order[size - 1]] - c[order[0]];
            double grid = size > FRONT_LIMIT ? span / FRONT_LIMIT : 0;
            List<Integer> kept = new ArrayList<>();
            double best = Double.POSITIVE_INFINITY;
            double lastCost = Double.NEGATIVE_INFINITY;
            for (int idx : order) {
                if (e[idx] < best && (grid == 0 || c[idx] - lastCost >= grid || kept.isEmpty())) {
                    kept.add(idx);
                    best = e[idx];
                    lastCost = c[idx];
                }
            }
            double[] nc = new double[kept.size()];
            double[] ne = new double[kept.size()];
            int[] nf = new int[kept.size()];
            int[] nu = new int[kept.size()];
            for (int i = 0; i < nc.length; i++) {
                int idx = kept.get(i);
                nc[i] = c[idx];
                ne[i] = e[idx];
                nf[i] = from[idx];
                nu[i] = units[idx];
            }
            List<int[]> p = new ArrayList<>(previous);
            p.add(nf);
            List<int[]> ch = new ArrayList<>(chosen);
            ch.add(nu);
            return new Front(nc, ne, p, ch);
        }

        /** Each layer's units at point {@code i}. */
        int[] units(int i) {
            int layers = chosen.size();
            int[] out = new int[layers];
            for (int l = layers - 1; l >= 0; l--) {
                out[l] = chosen.get(l)[i];
                i = previous.get(l)[i];
            }
            return out;
        }
    }

    /** One block's dynamic program. */
    private final class Layer {
        final int layer;
        final int units;
        final int[] unitsOf = new int[ORDER.length];
        final boolean[] can = new boolean[ORDER.length];
        final double attentionShare;
        final double feedForwardShare;
        final boolean trackAttention;
        final boolean trackFeedForward;
        final double[] block;
        final double[] forecast;
        final double[] attention;
        final double[] feedForward;
        /** Ages 1 .. maxStaleness + 1 (the last: too old to reuse); dimensions of the state. */
        final int ages = maxStaleness + 1;
        /**
         * Ages of the residual: as {@link #ages}, or one more where forecasts need the gap between the last two
         * computes (up to {@code maxStaleness + 1} exactly, the last age then meaning "older").
         */
        final int agesB;
        /** Gaps between the residual's last two computes: 0 (one compute so far), 1 .. agesB (agesB: too old). */
        final int dg;
        final boolean trackGap;
        final int da;
        final int df;
        final int states;
        final int costs;

        Layer(int layer) {
            this.layer = layer;
            Set<BlockPart> parts = layout.block(layer).parts();
            units = Math.max(1, parts.size());
            long attentionParts = parts.stream().filter(BlockPart::isAttention).count();
            long feedForwardParts = parts.stream().filter(BlockPart::isFeedForward).count();
            attentionShare = (double) attentionParts / units;
            feedForwardShare = (double) feedForwardParts / units;
            boolean chargeA = attentionParts == 0 || model.hasAttention();
            boolean chargeF = feedForwardParts == 0 || model.hasFeedForward();
            for (CellDecision d : ORDER) {
                boolean ok = allowed.contains(d) && d.fits(parts) && switch (d) {
                    case REUSE_ATTENTION -> chargeA && attentionParts > 0;
                    case REUSE_FEED_FORWARD -> chargeF && feedForwardParts > 0;
                    case REUSE_PARTS -> chargeA && chargeF;
                    default -> true;
                };
                can[d.ordinal()] = ok && model.allows(d);
                unitsOf[d.ordinal()] = (int) Math.round(d.computedShare(parts) * units);
            }
            unitsOf[CellDecision.COMPUTE.ordinal()] = units;
            trackAttention = attentionParts > 0 && (can[CellDecision.REUSE_ATTENTION.ordinal()]
                    || can[CellDecision.REUSE_PARTS.ordinal()]);
            trackFeedForward = feedForwardParts > 0 && (can[CellDecision.REUSE_FEED_FORWARD.ordinal()]
                    || can[CellDecision.REUSE_PARTS.ordinal()]);
            block = model.cumulative(CellErrorModel.Chain.BLOCK, layer);
            forecast = model.cumulative(CellErrorModel.Chain.FORECAST, layer);
            attention = trackAttention ? model.cumulative(CellErrorModel.Chain.ATTENTION, layer) : null;
            feedForward = trackFeedForward ? model.cumulative(CellErrorModel.Chain.FEED_FORWARD, layer) : null;
            trackGap = model.hasForecast() && (can[CellDecision.FORECAST_BLOCK.ordinal()]
                    || model.forecastedReuse() && can[CellDecision.REUSE_BLOCK.ordinal()]);
            agesB = trackGap ? ages + 1 : ages;
            dg = trackGap ? agesB + 1 : 1;
            da = trackAttention ? ages : 1;
            df = trackFeedForward ? ages : 1;
            states = agesB * dg * da * df;
            costs = steps * units + 1;
        }

        double[] front() {
            double[] dp = run(null);
            double[] out = new double[costs];
            Arrays.fill(out, Double.POSITIVE_INFINITY);
            for (int s = 0; s < states; s++) {
                for (int c = 0; c < costs; c++) {
                    out[c] = Math.min(out[c], dp[s * costs + c]);
                }
            }
            return out;
        }

        CellDecision[] plan(int target) {
            int[][] back = new int[steps][];
            double[] dp = run(back);
            int best = -1;
            for (int s = 0; s < states; s++) {
                if (dp[s * costs + target] < Double.POSITIVE_INFINITY
                        && (best < 0 || dp[s * costs + target] < dp[best * costs + target])) {
                    best = s;
                }
            }
            if (best < 0) {
                throw new IllegalStateException("layer " + layer + ": no plan of " + target + " units");
            }
            CellDecision[] plan = new CellDecision[steps];
            plan[0] = CellDecision.COMPUTE;
            int s = best;
            int c = target;
            for (int t = steps - 1; t >= 1; t--) {
                int entry = back[t][s * costs + c];
                CellDecision d = ORDER[entry & 7];
                plan[t] = d;
                c -= unitsOf[d.ordinal()];
                s = entry >>> 3;
            }
            return plan;
        }

        /** The table after the last step, {@code [state * costs + units]}; with {@code back}, how each was reached. */
        private double[] run(int[][] back) {
            double[] dp = new double[states * costs];
            Arrays.fill(dp, Double.POSITIVE_INFINITY);
            dp[state(1, 0, 1, 1) * costs + units] = 0;
            for (int t = 1; t < steps; t++) {
                double[] next = new double[states * costs];
                Arrays.fill(next, Double.POSITIVE_INFINITY);
                int[] from = back == null ? null : new int[states * costs];
                int reach = t * units; // the most units spent before step t
                for (int ab = 1; ab <= agesB; ab++) {
                    for (int gb = 0; gb < dg; gb++) {
                        for (int aa = 1; aa <= da; aa++) {
                            for (int af = 1; af <= df; af++) {
                                int s = state(ab, gb, aa, af);
                                for (CellDecision d : ORDER) {
                                    if (can[d.ordinal()]) {
                                        relax(t, s, ab, gb, aa, af, d, dp, next, from, reach);
                                    }
                                }
                            }
                        }
                    }
                }
                dp = next;
                if (back != null) {
                    back[t] = from;
                }
            }
            return dp;
        }

        private void relax(int t, int s, int ab, int gb, int aa, int af, CellDecision d, double[] dp, double[] next,
                int[] from, int reach) {
            double err;
            int nb = Math.min(ab + 1, agesB);
            int ng = gb;
            int na = older(aa);
            int nf = older(af);
            switch (d) {
                case COMPUTE -> {
                    err = 0;
                    nb = 1;
                    ng = trackGap ? ab : 0;
                    na = 1;
                    nf = 1;
                }
                case REUSE_BLOCK, FORECAST_BLOCK -> {
                    boolean forecasts = model.forecasts(d);
                    if (ab > maxStaleness || ab > t || trackGap && (t - ab - gb < 0 || forecasts && gb == agesB)) {
                        // too old, or a state no plan reaches (a gap reaching before step 0)
                        return;
                    }
                    err = model.blockCharge(forecasts, block, forecast, t - ab, trackGap ? gb : 0, t);
                }
                case REUSE_ATTENTION -> {
                    if (!fresh(aa, t, trackAttention)) {
                        return;
                    }
                    err = partError(attention, attentionShare, t, aa);
                    nf = 1;
                }
                case REUSE_FEED_FORWARD -> {
                    if (!fresh(af, t, trackFeedForward)) {
                        return;
                    }
                    err = partError(feedForward, feedForwardShare, t, af);
                    na = 1;
                }
                default -> {
                    if (!fresh(aa, t, trackAttention) || !fresh(af, t, trackFeedForward)) {
                        return;
                    }
                    err = partError(attention, attentionShare, t, aa) + partError(feedForward, feedForwardShare, t,
                            af);
                }
            }
            err *= model.stepWeight(t);
            if (!trackAttention) {
                na = 1;
            }
            if (!trackFeedForward) {
                nf = 1;
            }
            int ns = state(nb, ng, na, nf);
            int du = unitsOf[d.ordinal()];
            int base = s * costs;
            int nbase = ns * costs;
            int top = Math.min(reach, costs - 1 - du);
            for (int c = 0; c <= top; c++) {
                double v = dp[base + c];
                if (v < Double.POSITIVE_INFINITY) {
                    double w = v + err;
                    if (w < next[nbase + c + du]) {
                        next[nbase + c + du] = w;
                        if (from != null) {
                            from[nbase + c + du] = s << 3 | d.ordinal();
                        }
                    }
                }
            }
        }

        private boolean fresh(int age, int t, boolean tracked) {
            return !tracked || age <= maxStaleness && age <= t;
        }

        private double partError(double[] cum, double share, int t, int age) {
            return cum == null ? 0 : share * (cum[t] - cum[t - age]);
        }

        private int older(int age) {
            return Math.min(age + 1, ages);
        }

        private int state(int ab, int gb, int aa, int af) {
            return (((ab - 1) * dg + gb) * da + (aa - 1)) * df + (af - 1);
        }
    }
}
