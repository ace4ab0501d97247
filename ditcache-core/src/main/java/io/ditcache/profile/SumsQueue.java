package io.ditcache.profile;

import io.ditcache.backend.DistanceSums;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The CPU backend's queue of results: six numbers per comparison in one growing array, so that queuing a row
 * allocates nothing once the array has grown to a run's size; records are made only when the queue is drained.
 */
final class SumsQueue {
    /** Per comparison: n, then the five sums in {@link DistanceSums}' order. */
    static final int WIDTH = 6;
    private double[] values = new double[WIDTH * 64];
    private int size;

    /** The index at which the next comparison's five sums go ({@code n} is at index - 1), after making room. */
    int claim(long n) {
        if ((size + 1) * WIDTH > values.length) {
            values = Arrays.copyOf(values, values.length * 2);
        }
        int at = size * WIDTH;
        values[at] = n;
        size++;
        return at + 1;
    }

    /** The array {@link #claim} indexes into (valid until the next claim). */
    double[] values() {
        return values;
    }

    void add(DistanceSums s) {
        int at = claim(s.n());
        values[at] = s.sumAbsDiff();
        values[at + 1] = s.sumAbsA();
        values[at + 2] = s.dot();
        values[at + 3] = s.sumSqA();
        values[at + 4] = s.sumSqB();
    }

    /** Every queued comparison's sums, in order; empties the queue. */
    List<DistanceSums> drain() {
        List<DistanceSums> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            int at = i * WIDTH;
            out.add(new DistanceSums((long) values[at], values[at + 1], values[at + 2], values[at + 3],
                    values[at + 4], values[at + 5]));
        }
        size = 0;
        return out;
    }

    void clear() {
        size = 0;
    }
}
