package io.ditcache.policy;

import io.ditcache.Block;
import io.ditcache.BlockPart;
import io.ditcache.CachePolicy;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * FORA: every block's attention and feed-forward outputs are recomputed every {@code interval} steps (step
 * {@code i} computes when {@code i % interval == 0}) and reused in between, where only the block's norms and
 * gates run: the decision reuses every part the block has ({@link Block#parts()}: self-, cross- and context
 * attention, both streams' feed-forward). A block with no reusable parts (a whole model cached per step) is
 * reused whole ({@link Decision#REUSE_BLOCK}). Stateless.
 */
public final class IntervalPolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "fora";

    private final int interval;

    /**
     * @param interval recompute every {@code interval} steps, {@code >= 1} (no default in {@link Policies}); 1
     *                 computes everything
     */
    public IntervalPolicy(int interval) {
        this.interval = ParameterChecks.atLeast(NAME, "interval", interval, 1);
    }

    public int interval() {
        return interval;
    }

    @Override
    public Decision decide(Query query) {
        if (query.step() % interval == 0) {
            return Decision.COMPUTE;
        }
        Block block = query.block();
        return block.parts().isEmpty() ? Decision.REUSE_BLOCK : Decision.reuse(block.parts());
    }

    /** Every part a block has, or the whole of a block without parts. */
    @Override
    public Set<Decision> decisions() {
        return Set.of(Decision.COMPUTE, Decision.REUSE_BLOCK, Decision.reuse(EnumSet.allOf(BlockPart.class)));
    }

    @Override
    public Set<Decision> decisions(Block block) {
        return Set.of(Decision.COMPUTE, block.parts().isEmpty() ? Decision.REUSE_BLOCK : Decision.reuse(block.parts()));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "interval", interval);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
