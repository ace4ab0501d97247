package io.ditcache;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One block of a model as a cache sees it: where it runs, what kind it is, what can be reused of it and what it
 * costs.
 *
 * @param index    position in execution order, from 0
 * @param group    the block list it belongs to
 * @param parts    the parts whose outputs can be reused on their own (may be empty: whole-block reuse only)
 * @param context  whether the block takes and returns a context (text) stream beside the image stream: a joint
 *                 block has two residuals, cached and reused together
 * @param residual whether the block's output is its input plus a residual (transformer blocks: whole-block reuse
 *                 adds the cached residual to the current input), or a value of its own (a whole opaque model:
 *                 whole-block reuse returns the cached output)
 * @param cost     relative cost of running the block, finite and {@code > 0}; computed by the family from its
 *                 config (e.g. multiply-adds per token), used by planners to weigh blocks
 */
public record Block(int index, BlockGroup group, Set<BlockPart> parts, boolean context, boolean residual,
        double cost) {
    public Block {
        if (index < 0) {
            throw new IllegalArgumentException("block index must be >= 0, got " + index);
        }
        Objects.requireNonNull(group, "group");
        parts = parts.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(parts));
        if (!(cost > 0) || !Double.isFinite(cost)) {
            throw new IllegalArgumentException("block " + index + ": cost " + cost + ", expected a finite number > 0");
        }
        if (!context && (parts.contains(BlockPart.CONTEXT_ATTENTION)
                || parts.contains(BlockPart.CONTEXT_FEED_FORWARD))) {
            throw new IllegalArgumentException("block " + index + " has context-stream parts " + parts
                    + " but no context stream");
        }
    }

    /** An image-stream transformer block with self-attention and feed-forward (DiT). */
    public static Block plain(int index, double cost) {
        return new Block(index, BlockGroup.PLAIN, EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD), false,
                true, cost);
    }

    /** Whether the block has {@code part}. */
    public boolean has(BlockPart part) {
        return parts.contains(part);
    }
}
