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
     * Queues {@code count} comparisons of one pair of tensors at once: for each {@code r < count}, the sums over
     * {@code length} elements at {@code aOffsets[r]} of {@code a} and {@code bOffsets[r]} of {@code b}, in that order,
     * exactly as {@code count} calls of {@link #add} would (the profiler calls it once per site and step, with one
     * range per sample). The arrays are only read during the call. The default calls {@link #add} for each range; a
     * backend overrides it to pay its fixed cost (checks, pointers, a launch) once per tensor pair.
     *
     * @throws IllegalArgumentException when a range lies outside its tensor, or {@code count} exceeds an array
     */
    default void addRows(Tensor a, long[] aOffsets, Tensor b, long[] bOffsets, int count, long length) {
        checkCount(count, aOffsets, bOffsets);
        for (int r = 0; r < count; r++) {
            add(a, aOffsets[r], b, bOffsets[r], length);
        }
    }

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
     * Checks that both offset arrays hold at least {@code count} ranges.
     *
     * @throws IllegalArgumentException otherwise
     */
    static void checkCount(int count, long[] aOffsets, long[] bOffsets) {
        if (count < 0 || count > aOffsets.length || count > bOffsets.length) {
            throw new IllegalArgumentException("distance rows: count " + count + ", expected 0.." + Math.min(
                    aOffsets.length, bOffsets.length) + " (the offsets given)");
        }
    }

    /**
     * Checks {@code count} row ranges of {@code length} elements at once: both offset arrays hold them
     * ({@link #checkCount}) and each lies inside its tensor ({@link #checkRange}, operands {@code a} and {@code b}).
     *
     * @throws IllegalArgumentException otherwise
     */
    static void checkRows(long aNumel, long[] aOffsets, long bNumel, long[] bOffsets, int count, long length) {
        checkCount(count, aOffsets, bOffsets);
        for (int r = 0; r < count; r++) {
            checkRange("a", aNumel, aOffsets[r], length);
            checkRange("b", bNumel, bOffsets[r], length);
        }
    }

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
