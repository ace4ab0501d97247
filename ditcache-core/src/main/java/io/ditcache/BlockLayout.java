package io.ditcache;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * A model's blocks in execution order, as a cache sees them (cache-dit's block adapter): what every policy, planner
 * and the cache runtime are written against. FLUX declares 19 {@link BlockGroup#DOUBLE} then 38
 * {@link BlockGroup#SINGLE} blocks; Latte alternates {@link BlockGroup#SPATIAL} and {@link BlockGroup#TEMPORAL};
 * an opaque denoiser cached per step is {@link #wholeModel()}.
 *
 * @param blocks at least one; block {@code i} has index {@code i}
 */
public record BlockLayout(List<Block> blocks) {
    public BlockLayout {
        blocks = List.copyOf(Objects.requireNonNull(blocks, "blocks"));
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("a block layout needs at least one block");
        }
        for (int i = 0; i < blocks.size(); i++) {
            if (blocks.get(i).index() != i) {
                throw new IllegalArgumentException("block at position " + i + " has index " + blocks.get(i).index()
                        + ", expected " + i + " (blocks are listed in execution order)");
            }
        }
    }

    /** {@code n} blocks made by {@code block} from their index. */
    public static BlockLayout of(int n, IntFunction<Block> block) {
        if (n < 1) {
            throw new IllegalArgumentException("a block layout needs at least one block, got " + n);
        }
        List<Block> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(block.apply(i));
        }
        return new BlockLayout(out);
    }

    /** {@code n} {@link Block#plain} blocks of cost 1: a DiT-like stack. */
    public static BlockLayout plain(int n) {
        return of(n, i -> Block.plain(i, 1));
    }

    /**
     * The whole model as one block whose output is reused as it is (a step-level cache for a denoiser called as one
     * opaque model per step).
     */
    public static BlockLayout wholeModel() {
        return new BlockLayout(List.of(new Block(0, BlockGroup.MODEL, java.util.Set.of(), false, false, 1)));
    }

    /** Number of blocks. */
    public int size() {
        return blocks.size();
    }

    public Block block(int index) {
        return blocks.get(index);
    }

    /** The blocks' costs, by index. */
    public double[] costs() {
        return blocks.stream().mapToDouble(Block::cost).toArray();
    }
}
