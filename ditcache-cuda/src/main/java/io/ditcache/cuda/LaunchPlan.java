package io.ditcache.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The pairs of one launch as the kernels read them: each pair's first block in stage 1 (one block per
 * {@link #CHUNK} elements) and the 48-byte descriptors ({@code struct Pair} of {@code distances.cu}).
 */
final class LaunchPlan {
    /** Threads per block, as {@code THREADS} in distances.cu. */
    static final int THREADS = 256;
    /** Elements per stage-1 block, as {@code CHUNK} in distances.cu. */
    static final int CHUNK = THREADS * 32;
    /** Bytes of one descriptor. */
    static final int PAIR_BYTES = 48;
    /** Sums per pair (everything but n). */
    static final int SUMS = 5;

    /** One comparison: device addresses of a (step i), b (step i + 1), where b is copied (0: nowhere). */
    record Pair(long a, long b, long copyTo, long n, ElementType type, int slot) {
    }

    private final List<Pair> pairs;
    private final long[] firstChunk;
    private final long chunks;

    LaunchPlan(List<Pair> pairs) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("a launch needs at least one pair");
        }
        this.pairs = List.copyOf(pairs);
        this.firstChunk = new long[pairs.size()];
        long c = 0;
        for (int i = 0; i < pairs.size(); i++) {
            firstChunk[i] = c;
            c += chunksOf(pairs.get(i).n());
        }
        if (c > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("one launch of " + c + " blocks exceeds the grid's " + Integer.MAX_VALUE
                    + "; submit fewer elements at once");
        }
        this.chunks = c;
    }

    static long chunksOf(long n) {
        return (n + CHUNK - 1) / CHUNK;
    }

    List<Pair> pairs() {
        return pairs;
    }

    int count() {
        return pairs.size();
    }

    /** Stage 1's blocks: one per chunk of every pair. */
    long chunks() {
        return chunks;
    }

    long firstChunk(int pair) {
        return firstChunk[pair];
    }

    /** The descriptors, little-endian, {@link #PAIR_BYTES} each, in the order of {@link #pairs()}. */
    ByteBuffer descriptors() {
        ByteBuffer b = ByteBuffer.allocateDirect(pairs.size() * PAIR_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < pairs.size(); i++) {
            Pair p = pairs.get(i);
            b.putLong(p.a()).putLong(p.b()).putLong(p.copyTo()).putLong(p.n()).putLong(firstChunk[i])
                    .putInt(p.type().code()).putInt(p.slot());
        }
        return b.flip();
    }
}
