package io.ditcache.io;

import java.util.List;
import java.util.Objects;

/**
 * Where a tensor lies in a safetensors file.
 *
 * @param name  the tensor's key in the header
 * @param dtype its element type as stored
 * @param shape its dimensions, outermost first; empty for a scalar
 * @param begin first byte, relative to the start of the data section
 * @param end   one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, List<Long> shape, long begin, long end) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = List.copyOf(shape);
        for (Long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + shape);
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "': byte range [" + begin + ", " + end + ") is not a range");
        }
    }

    /** The shape as an array, for libtorch calls. */
    public long[] dims() {
        return shape.stream().mapToLong(Long::longValue).toArray();
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (Long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes the tensor occupies in the file. */
    public long byteSize() {
        return end - begin;
    }
}
