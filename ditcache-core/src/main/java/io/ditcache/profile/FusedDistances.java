package io.ditcache.profile;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveTask;

/**
 * The CPU distance kernel: one pass over both float32 buffers, no temporaries, double accumulators. Optionally
 * copies {@code b} over {@code a} in the same pass, so a streaming probe keeps only one previous activation per
 * site. Large ranges are split into fixed chunks summed in a fixed order, so results do not depend on scheduling.
 */
public final class FusedDistances {
    /** Elements per parallel chunk; ranges shorter than two chunks run on the calling thread. */
    static final int CHUNK = 1 << 20;

    private FusedDistances() {
    }

    /**
     * Sums over {@code [offset, offset+length)} of {@code a} and {@code b} (absolute indices; buffer positions
     * are ignored). When {@code replace} is set, {@code a[i] = b[i]} afterwards.
     */
    public static DistanceSums compute(FloatBuffer a, FloatBuffer b, int offset, int length, boolean replace) {
        if (length < 2 * CHUNK) {
            return range(a, b, offset, offset + length, replace);
        }
        List<RecursiveTask<DistanceSums>> tasks = new ArrayList<>();
        for (int start = offset; start < offset + length; start += CHUNK) {
            int s = start;
            int e = Math.min(start + CHUNK, offset + length);
            tasks.add(new RecursiveTask<>() {
                @Override
                protected DistanceSums compute() {
                    return range(a, b, s, e, replace);
                }
            });
        }
        ForkJoinPool pool = ForkJoinPool.commonPool();
        tasks.forEach(pool::execute);
        DistanceSums total = new DistanceSums(0, 0, 0, 0, 0, 0);
        for (RecursiveTask<DistanceSums> t : tasks) {
            total = total.plus(t.join());
        }
        return total;
    }

    /** The scalar loop, two elements per iteration into independent accumulators. */
    static DistanceSums range(FloatBuffer a, FloatBuffer b, int from, int to, boolean replace) {
        double d0 = 0, d1 = 0, abs0 = 0, abs1 = 0, dot0 = 0, dot1 = 0, aa0 = 0, aa1 = 0, bb0 = 0, bb1 = 0;
        int i = from;
        for (; i + 1 < to; i += 2) {
            float a0 = a.get(i);
            float b0 = b.get(i);
            float a1 = a.get(i + 1);
            float b1 = b.get(i + 1);
            d0 += Math.abs(b0 - a0);
            d1 += Math.abs(b1 - a1);
            abs0 += Math.abs(a0);
            abs1 += Math.abs(a1);
            dot0 += (double) a0 * b0;
            dot1 += (double) a1 * b1;
            aa0 += (double) a0 * a0;
            aa1 += (double) a1 * a1;
            bb0 += (double) b0 * b0;
            bb1 += (double) b1 * b1;
            if (replace) {
                a.put(i, b0);
                a.put(i + 1, b1);
            }
        }
        if (i < to) {
            float a0 = a.get(i);
            float b0 = b.get(i);
            d0 += Math.abs(b0 - a0);
            abs0 += Math.abs(a0);
            dot0 += (double) a0 * b0;
            aa0 += (double) a0 * a0;
            bb0 += (double) b0 * b0;
            if (replace) {
                a.put(i, b0);
            }
        }
        return new DistanceSums(to - from, d0 + d1, abs0 + abs1, dot0 + dot1, aa0 + aa1, bb0 + bb1);
    }
}
