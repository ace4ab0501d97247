package io.ditcache.cache;

import io.ditcache.BlockPart;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * How a stack runs one of its blocks for the cache runtime: the runtime decides which rows compute, which reuse
 * parts and which skip the block, and calls this for each group of rows that runs it.
 */
@FunctionalInterface
public interface BlockCall {
    /**
     * Runs the block for {@code rows}.
     *
     * @param rows   which batch rows ({@link Rows#select} the per-row conditioning)
     * @param input  the rows' input streams
     * @param reused the parts to take as given instead of computing them (cached or forecast values, before the
     *               gates); empty when the block computes everything
     * @return the rows' output streams and the parts' outputs
     */
    BlockOutput run(Rows rows, Streams input, Map<BlockPart, Tensor> reused);

    /**
     * The block's normalised, timestep-modulated image input for {@code rows} (TeaCache's signal), computed on its
     * own. Only called where a policy asks for {@link io.ditcache.CacheSignal#MODULATED_INPUT_CHANGE} at this block.
     *
     * @throws UnsupportedOperationException when the stack does not provide it
     */
    default Tensor modulatedInput(Rows rows, Streams input) {
        throw new UnsupportedOperationException("this block does not provide its modulated input "
                + "(MODULATED_INPUT_CHANGE): implement BlockCall.modulatedInput");
    }

    /** A block call with its modulated input. */
    static BlockCall of(BlockCall run, java.util.function.BiFunction<Rows, Streams, Tensor> modulatedInput) {
        return new BlockCall() {
            @Override
            public BlockOutput run(Rows rows, Streams input, Map<BlockPart, Tensor> reused) {
                return run.run(rows, input, reused);
            }

            @Override
            public Tensor modulatedInput(Rows rows, Streams input) {
                return modulatedInput.apply(rows, input);
            }
        };
    }
}
