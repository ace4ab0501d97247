package io.ditcache;

import java.util.Map;

/**
 * Decides, per step, block, sample and guidance branch, whether a model computes a block or reuses what it
 * cached. A policy only decides; the model's cache points do the reuse. Implementations keep any state per
 * sample and branch, never mixed.
 *
 * <p>This release ships {@link #none()}; the policy family (FORA, FBCache, TeaCache, profile-guided, ...) builds
 * on this interface.
 */
public interface CachePolicy {

    /** What a cache point does for one block of one sample and branch. */
    enum Decision {
        /** Run the block. */
        COMPUTE,
        /** Skip the block and reuse its cached contribution. */
        REUSE
    }

    /**
     * The question a cache point asks.
     *
     * @param step   call index {@code i = 0 .. steps-1}
     * @param steps  calls in the run
     * @param layer  block index
     * @param branch guidance branch
     * @param sample sample index within the branch
     */
    record Query(int step, int steps, int layer, Branch branch, int sample) {
        public Query {
            if (step < 0 || step >= steps) {
                throw new IllegalArgumentException("step " + step + " not in [0, " + steps + ")");
            }
            if (layer < 0 || sample < 0) {
                throw new IllegalArgumentException("layer and sample must be >= 0, got " + layer + ", " + sample);
            }
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

    /** The policy that always computes: sampling exactly as without a cache. */
    static CachePolicy none() {
        return NoCache.INSTANCE;
    }
}
