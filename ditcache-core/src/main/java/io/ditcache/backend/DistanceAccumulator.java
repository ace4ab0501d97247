package io.ditcache.backend;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The comparisons of one profiler, queued in order and read back together: {@link #add} computes (or launches)
 * the sums of one pair of ranges, {@link #drain()} returns every queued result in the order added. Offsets and
 * lengths are 64-bit element counts, so activations over 2 GiB are fine. Not thread-safe.
 */
public interface DistanceAccumulator extends AutoCloseable {
    /**
     * Queues the sums over {@code length} elements at element offset {@code aOffset} of {@code a} (step i) and
     * {@code bOffset} of {@code b} (step i+1). Both are contiguous tensors of one type that the backend
     * {@linkplain DistanceBackend#accepts accepts} and {@linkplain DistanceBackend#reads reads} (float32 for every
     * backend). The caller may release them once this returns: a backend that
     * computes asynchronously orders its reads before later work on the tensors' memory (on a GPU: on the
     * tensors' stream, which the caching allocator respects).
     *
     * @throws IllegalArgumentException when a range lies outside its tensor
     */
    void add(Tensor a, long aOffset, Tensor b, long bOffset, long length);

    /**
     * Starts the comparisons added so far, where the backend batches them (a device backend launches them all in one
     * kernel); the profiler calls it once per step. The default does nothing: the CPU backend computes in
     * {@link #add}. {@link #drain()} submits what is left.
     */
    default void submit() {
    }

    /** The sums of every comparison added since the last drain, in the order added; empties the queue. */
    List<DistanceSums> drain();

    /** Releases what the backend holds; queued results are dropped. Idempotent. */
    @Override
    void close();

    /**
     * Checks that {@code [offset, offset + length)} lies inside a tensor of {@code numel} elements.
     *
     * @throws IllegalArgumentException naming the operand otherwise
     */
    static void checkRange(String operand, long numel, long offset, long length) {
        if (offset < 0 || length < 0 || offset > numel - length) {
            throw new IllegalArgumentException("distance range of " + operand + " [" + offset + ", " + offset + " + "
                    + length + ") lies outside its " + numel + " elements");
        }
    }
}
