package io.ditcache.cache;

import io.ditcache.BlockPart;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * What a block returns to the runtime.
 *
 * @param output the output streams, rows as given
 * @param parts  the outputs of the parts it has (before their gates): those it computed are cached, those it was
 *               given may be echoed back and are ignored
 */
public record BlockOutput(Streams output, Map<BlockPart, Tensor> parts) {
    public BlockOutput {
        Objects.requireNonNull(output, "output");
        parts = Map.copyOf(parts);
    }

    /** A block without reusable parts. */
    public static BlockOutput of(Streams output) {
        return new BlockOutput(output, Map.of());
    }
}
