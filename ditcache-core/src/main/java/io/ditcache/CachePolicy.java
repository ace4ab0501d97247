package io.ditcache;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides ("when"), per step, block, sample and guidance branch, whether a model computes a block, reuses parts of
 * it, or reuses the whole block, and how a reused value is approximated ("how", {@link #approximation()}). A
 * policy only decides; a cache runtime ({@code io.ditcache.cache.CacheRuntime}) does the reuse. Implementations
 * keep any state per sample and branch, never mixed.
 *
 * <p>Call order within one run (after {@link #reset()}): for each step {@code i = 0 .. steps-1}, for each block
 * {@code b} in execution order: {@link #observe} of every {@link CacheSignal#MODULATED_INPUT_CHANGE} requested at
 * {@code b} (from step 1 on) for every row, then {@link #decide} for every row, then, after the block ran,
 * {@link #observe} of every {@link CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE} requested at {@code b} (for rows that
 * have a reference). Rows are asked in batch order, and the signals a row sees do not depend on the other rows of
 * its batch.
 *
 * <p>Whatever a policy answers, the runtime computes every block at step 0 and a block (or part) whose cache is
 * empty for that row; {@link CacheStats} records what actually ran.
 */
public interface CachePolicy {

    /**
     * What a cache point does for one block of one sample and branch: compute it, reuse some of its
     * {@link BlockPart}s (the block runs, its norms and gates apply to the cached part outputs), or reuse the whole
     * block (its input plus its cached residual, per stream), the reused values approximated as the policy's
     * {@link CachePolicy#approximation()} says or, for this decision alone, by a Taylor forecast of its own order.
     *
     * @param wholeBlock reuse the whole block; {@code reused} is then empty
     * @param reused     the parts to reuse when not the whole block; empty = compute
     * @param order      {@link #POLICY_ORDER} (the policy's approximation) or the order (0 plain reuse, 1 or 2 Taylor)
     *                   of this decision's approximation; a decision that computes has {@link #POLICY_ORDER}
     */
    record Decision(boolean wholeBlock, Set<BlockPart> reused, int order) {
        /** The order of a decision that approximates as its policy's {@link CachePolicy#approximation()} does. */
        public static final int POLICY_ORDER = -1;
        /** Run the block. */
        public static final Decision COMPUTE = new Decision(false, Set.of());
        /** Skip the block: its input plus its cached residual (output minus input), every stream. */
        public static final Decision REUSE_BLOCK = new Decision(true, Set.of());
        private static final Set<Decision> ALL = every();

        public Decision {
            Objects.requireNonNull(reused, "reused");
            if (wholeBlock && !reused.isEmpty()) {
                throw new IllegalArgumentException("a whole-block decision names no parts, got " + reused);
            }
            if (order < POLICY_ORDER || order > 2) {
                throw new IllegalArgumentException("decision order " + order + ": expected -1 (the policy's "
                        + "approximation), 0 (reuse), 1 or 2 (Taylor)");
            }
            reused = reused.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(reused));
            if (!wholeBlock && reused.isEmpty()) {
                order = POLICY_ORDER; // nothing is approximated
            }
        }

        /** A decision approximated as its policy says. */
        public Decision(boolean wholeBlock, Set<BlockPart> reused) {
            this(wholeBlock, reused, POLICY_ORDER);
        }

        /**
         * Skip the block and forecast its residual (per stream) by a Taylor expansion of {@code order} through its
         * last computed residuals (plain reuse where fewer are cached), whatever the policy's approximation.
         */
        public static Decision forecastBlock(int order) {
            if (order < 1 || order > 2) {
                throw new IllegalArgumentException("forecast order " + order + ": expected 1 or 2");
            }
            return new Decision(true, Set.of(), order);
        }

        /** This decision approximated by {@code order} alone ({@link #POLICY_ORDER}: as its policy says). */
        public Decision withOrder(int order) {
            return new Decision(wholeBlock, reused, order);
        }

        /** The order this decision approximates with under a policy whose own order is {@code policyOrder}. */
        public int order(int policyOrder) {
            return order == POLICY_ORDER ? policyOrder : order;
        }

        /**
         * Every decision a policy can return without an order of its own: compute, reuse the whole block, and
         * reuse any non-empty set of parts. What {@link CachePolicy#decisions()} declares by default.
         */
        public static Set<Decision> all() {
            return ALL;
        }

        /** {@link Decision#all()}: compute, whole-block reuse and the reuse of every non-empty set of parts. */
        private static Set<Decision> every() {
            Set<Decision> out = new java.util.LinkedHashSet<>();
            out.add(Decision.COMPUTE);
            out.add(Decision.REUSE_BLOCK);
            BlockPart[] parts = BlockPart.values();
            for (int mask = 1; mask < 1 << parts.length; mask++) {
                Set<BlockPart> set = EnumSet.noneOf(BlockPart.class);
                for (int p = 0; p < parts.length; p++) {
                    if ((mask & 1 << p) != 0) {
                        set.add(parts[p]);
                    }
                }
                out.add(Decision.reuse(set));
            }
            return Collections.unmodifiableSet(out);
        }

        /** Reuse {@code parts} (none: {@link #COMPUTE}). */
        public static Decision reuse(BlockPart... parts) {
            return reuse(parts.length == 0 ? Set.of() : EnumSet.of(parts[0], parts));
        }

        /** Reuse {@code parts} (none: {@link #COMPUTE}). */
        public static Decision reuse(Set<BlockPart> parts) {
            return parts.isEmpty() ? COMPUTE : new Decision(false, parts);
        }

        /** Whether the whole block runs with nothing reused. */
        public boolean computes() {
            return !wholeBlock && reused.isEmpty();
        }

        /** Whether {@code part} is taken from the cache (a whole-block decision reuses every part). */
        public boolean reuses(BlockPart part) {
            return wholeBlock || reused.contains(part);
        }

        /** This decision for {@code block}: parts it does not have are dropped, and none left computes. */
        public Decision on(Block block) {
            if (wholeBlock || block.parts().containsAll(reused)) {
                return this;
            }
            Set<BlockPart> kept = EnumSet.noneOf(BlockPart.class);
            reused.stream().filter(block::has).forEach(kept::add);
            return reuse(kept).withOrder(order);
        }

        /**
         * The fraction of {@code block} this decision skips: 1 for the whole block, else the reused parts' share
         * of the block's parts (counted alike).
         */
        public double skipped(Block block) {
            if (wholeBlock) {
                return 1;
            }
            if (reused.isEmpty() || block.parts().isEmpty()) {
                return 0;
            }
            long n = reused.stream().filter(block::has).count();
            return (double) n / block.parts().size();
        }

        /**
         * {@code compute}, {@code reuse} (whole block), {@code forecast1} or {@code forecast2} (whole block, Taylor
         * of its own order) or {@code reuse_} and the parts, e.g. {@code reuse_self_attention}; an order of the
         * decision's own other than a whole-block forecast is appended as {@code @reuse} or {@code @taylorN}.
         */
        public String name() {
            String suffix = order == POLICY_ORDER ? "" : order == 0 ? "@reuse" : "@taylor" + order;
            if (wholeBlock) {
                return (order > 0 ? "forecast" + order : "reuse" + suffix);
            }
            if (reused.isEmpty()) {
                return "compute";
            }
            return "reuse_" + reused.stream().map(p -> p.name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining("+")) + suffix;
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /**
     * The question a cache point asks.
     *
     * @param step     call index {@code i = 0 .. steps-1}
     * @param steps    calls in the run
     * @param timestep the step's timestep or sigma, as the model is called with it (NaN where unknown)
     * @param layout   the model's blocks
     * @param layer    the block asked about, {@code 0 .. layout.size()-1}
     * @param branch   guidance branch
     * @param sample   sample index within the branch
     */
    record Query(int step, int steps, double timestep, BlockLayout layout, int layer, Branch branch, int sample) {
        public Query {
            if (step < 0 || step >= steps) {
                throw new IllegalArgumentException("step " + step + " not in [0, " + steps + ")");
            }
            Objects.requireNonNull(layout, "layout");
            if (layer < 0 || layer >= layout.size()) {
                throw new IllegalArgumentException("layer " + layer + " not in [0, " + layout.size() + ")");
            }
            if (sample < 0) {
                throw new IllegalArgumentException("sample must be >= 0, got " + sample);
            }
            Objects.requireNonNull(branch, "branch");
        }

        /** A query about a {@link BlockLayout#plain} stack of {@code layers} blocks, timestep unknown. */
        public Query(int step, int steps, int layer, int layers, Branch branch, int sample) {
            this(step, steps, Double.NaN, plainLayout(layers, layer), layer, branch, sample);
        }

        private static BlockLayout plainLayout(int layers, int layer) {
            if (layer < 0 || layer >= layers) {
                throw new IllegalArgumentException("layer " + layer + " not in [0, " + layers + ")");
            }
            return BlockLayout.plain(layers);
        }

        /** The block asked about. */
        public Block block() {
            return layout.block(layer);
        }

        /** Blocks in the model. */
        public int layers() {
            return layout.size();
        }
    }

    /** The decision for one block of one sample and branch. */
    Decision decide(Query query);

    /**
     * The decisions this policy may return (a decision of a smaller set of parts than a declared one counts as
     * declared): the cache runtime keeps cached values only for what they reuse (no part slots for a policy that
     * only reuses whole blocks, no residual slots for one that only reuses parts) and for the longest history their
     * approximations need, and refuses a decision outside them. By default {@link Decision#all()}: every
     * decision approximated as {@link #approximation()} says.
     */
    default Set<Decision> decisions() {
        return Decision.all();
    }

    /**
     * The decisions this policy may return for {@code block} ({@link #decisions()} by default): a policy whose
     * decisions depend on the block's kind (FORA reuses a block's parts, or the whole of a block without parts)
     * declares here what each block needs.
     */
    default Set<Decision> decisions(Block block) {
        return decisions();
    }

    /** Short name, e.g. {@code "none"}. */
    String name();

    /** Name and parameters (JSON-friendly values), for reports. */
    default Map<String, Object> describe() {
        return Map.of("name", name());
    }

    /** Resets per-run state; called before a run's first step. */
    default void reset() {
    }

    /**
     * The signals this policy wants measured, each at its block; the runtime measures only these. Requests at
     * blocks beyond the model are not measured.
     */
    default Set<SignalRequest> signals() {
        return Set.of();
    }

    /** A measured signal of one row at one step; {@code query.layer()} is the request's block. */
    default void observe(SignalRequest signal, Query query, double value) {
    }

    /** How reused values are approximated; plain reuse by default. */
    default Approximation approximation() {
        return Approximation.REUSE;
    }

    /** The policy that always computes: sampling exactly as without a cache. */
    static CachePolicy none() {
        return NoCache.INSTANCE;
    }
}
