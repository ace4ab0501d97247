package io.ditcache;

import java.util.Map;
import java.util.Set;

/**
 * Decides ("when"), per step, block, sample and guidance branch, whether a model computes a block or reuses what
 * it cached, and how a reused value is approximated ("how", {@link #approximation()}). A policy only decides;
 * the model's cache points do the reuse. Implementations keep any state per sample and branch, never mixed.
 *
 * <p>Call order within one run (after {@link #reset()}): for each step {@code i = 0 .. steps-1}, for each row of
 * the batch (a sample of a branch): {@link #observe} of {@link CacheSignal#MODULATED_INPUT_CHANGE} (from step 1
 * on, if asked for), then {@link #decide} for layers {@code 0 .. firstBlocks()-1}, then {@link #observe} of
 * {@link CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE} (once a reference exists, if asked for), then {@link #decide}
 * for the remaining layers. Rows are asked in batch order, and the signals a row sees do not depend on the other
 * rows of its batch.
 *
 * <p>Whatever a policy answers, the model computes every block at step 0 and a block whose cache is empty for
 * that row; {@link CacheStats} records what actually ran.
 */
public interface CachePolicy {

    /** What a cache point does for one block of one sample and branch. */
    enum Decision {
        /** Run the block. */
        COMPUTE,
        /** Skip the block: its input plus its cached residual (output minus input). */
        REUSE,
        /** Run the block but reuse its cached attention output (before the gate; the current gate applies). */
        REUSE_ATTENTION,
        /** Run the block but reuse its cached feed-forward output (before the gate). */
        REUSE_MLP,
        /** Reuse both the attention and the feed-forward output: only the block's norms and gates run. */
        REUSE_ATTENTION_AND_MLP;

        /** Whether the block's attention runs. */
        public boolean runsAttention() {
            return this == COMPUTE || this == REUSE_MLP;
        }

        /** Whether the block's feed-forward runs. */
        public boolean runsMlp() {
            return this == COMPUTE || this == REUSE_ATTENTION;
        }
    }

    /**
     * The question a cache point asks.
     *
     * @param step   call index {@code i = 0 .. steps-1}
     * @param steps  calls in the run
     * @param layer  block index {@code 0 .. layers-1}
     * @param layers blocks in the model
     * @param branch guidance branch
     * @param sample sample index within the branch
     */
    record Query(int step, int steps, int layer, int layers, Branch branch, int sample) {
        public Query {
            if (step < 0 || step >= steps) {
                throw new IllegalArgumentException("step " + step + " not in [0, " + steps + ")");
            }
            if (layer < 0 || layer >= layers) {
                throw new IllegalArgumentException("layer " + layer + " not in [0, " + layers + ")");
            }
            if (sample < 0) {
                throw new IllegalArgumentException("sample must be >= 0, got " + sample);
            }
            java.util.Objects.requireNonNull(branch, "branch");
        }
    }

    /** The decision for one block of one sample and branch. */
    Decision decide(Query query);

    /** Short name, e.g. {@code "none"}. */
    String name();

    /** Name and parameters (JSON-friendly values), for reports. */
    default Map<String, Object> describe() {
        return Map.of("name", name());
    }

    /** Resets per-run state; called before a run's first step. */
    default void reset() {
    }

    /** The signals this policy wants measured; the model computes only these. */
    default Set<CacheSignal> signals() {
        return Set.of();
    }

    /**
     * Leading blocks whose combined residual {@link CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE} measures (FBCache:
     * 1; DBCache: Fn). At least 1.
     */
    default int firstBlocks() {
        return 1;
    }

    /**
     * A measured signal of one row at one step. {@code query.layer()} is the last layer the signal depends on
     * (0 for {@link CacheSignal#MODULATED_INPUT_CHANGE}, {@code firstBlocks()-1} for
     * {@link CacheSignal#FIRST_BLOCKS_RESIDUAL_CHANGE}).
     */
    default void observe(CacheSignal signal, Query query, double value) {
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
