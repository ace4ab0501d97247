package io.ditcache.profile;

import io.ditcache.Branch;
import java.util.Arrays;
import java.util.List;

/**
 * Which sample of which guidance branch each batch row of a call is, worked out once per distinct row list (not per
 * site), and which rows of an earlier call each row pairs with: the profiler's per-step layout, so that observing a
 * site looks nothing up and allocates nothing per row.
 */
final class RowLayout {
    private static final int BRANCHES = Branch.values().length;
    final List<Branch> rows;
    /** {@code rowOf[branch][sample]}: the row holding that sample, or -1. */
    private final int[][] rowOf;
    /** The most samples of one branch in the call. */
    final int samples;
    private RowLayout pairedWith;
    private Pairs pairs;

    /** The rows of this layout that have a counterpart in an earlier call's layout, in row order. */
    record Pairs(int count, long[] earlierRows, long[] rows, int[] branch, int[] sample) {
    }

    RowLayout(List<Branch> rows) {
        this.rows = rows;
        int[] seen = new int[BRANCHES];
        for (Branch b : rows) {
            seen[b.ordinal()]++;
        }
        rowOf = new int[BRANCHES][];
        int most = 0;
        for (int b = 0; b < BRANCHES; b++) {
            rowOf[b] = new int[seen[b]];
            most = Math.max(most, seen[b]);
        }
        samples = most;
        Arrays.fill(seen, 0);
        for (int r = 0; r < rows.size(); r++) {
            int b = rows.get(r).ordinal();
            rowOf[b][seen[b]++] = r;
        }
    }

    /** The row of {@code sample} of {@code branch}, or -1 when the call has no such sample. */
    int rowOf(int branch, int sample) {
        int[] of = rowOf[branch];
        return sample < of.length ? of[sample] : -1;
    }

    /** Each row of this call with the row of the same sample and branch in {@code earlier}; cached for the last. */
    Pairs pairsWith(RowLayout earlier) {
        if (earlier != pairedWith) {
            int n = rows.size();
            long[] before = new long[n];
            long[] now = new long[n];
            int[] branch = new int[n];
            int[] sample = new int[n];
            int[] seen = new int[BRANCHES];
            int count = 0;
            for (int r = 0; r < n; r++) {
                int b = rows.get(r).ordinal();
                int s = seen[b]++;
                int e = earlier.rowOf(b, s);
                if (e >= 0) {
                    before[count] = e;
                    now[count] = r;
                    branch[count] = b;
                    sample[count] = s;
                    count++;
                }
            }
            pairs = new Pairs(count, before, now, branch, sample);
            pairedWith = earlier;
        }
        return pairs;
    }
}
