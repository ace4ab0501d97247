package io.ditcache.cache;

import io.ditcache.internal.Extrapolation;
import io.ditcache.internal.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The values one cache point (a block's residual or output, or one of its parts' outputs) computed at its last
 * {@code history} computed steps, per batch row: {@code history} persistent {@code [rows, ...]} tensors, slot 0
 * the newest, with the step index of each row's entry. Rows are updated independently (in place), so rows whose
 * decisions differ keep different histories.
 *
 * <p>Native memory: the slot tensors are retained across the sampler's per-step scopes and released by
 * {@link #close()}.
 */
public final class CacheSlots implements AutoCloseable {
    private final int history;
    private final int rows;
    private final Tensor[] slots;
    /** {@code steps[k][row]}: step of slot k's entry for row, or -1. */
    private final int[][] steps;

    /**
     * @param history computed values kept per row, {@code >= 1} (an approximation's {@code order + 1})
     * @param rows    batch rows
     */
    public CacheSlots(int history, int rows) {
        if (history < 1 || rows < 1) {
            throw new IllegalArgumentException("cache slots need history >= 1 and rows >= 1, got " + history
                    + " and " + rows);
        }
        this.history = history;
        this.rows = rows;
        this.slots = new Tensor[history];
        this.steps = new int[history][rows];
        for (int[] s : steps) {
            Arrays.fill(s, -1);
        }
    }

    /** Entries held for {@code row}. */
    public int available(int row) {
        int n = 0;
        while (n < history && steps[n][row] >= 0) {
            n++;
        }
        return n;
    }

    /**
     * Records {@code value} ({@code [rowIds.length, ...]}) as computed at {@code step} for the rows
     * {@code rowIds}, shifting their older entries back.
     */
    public void update(Tensor value, int[] rowIds, int step) {
        if (slots[0] == null) {
            long[] shape = Tensors.shape(value);
            shape[0] = rows;
            for (int k = 0; k < history; k++) {
                slots[k] = value.new_zeros(shape);
                slots[k].retainReference();
            }
        }
        boolean all = rowIds.length == rows;
        Tensor idx = all ? null : index(rowIds, value);
        for (int k = history - 1; k > 0; k--) {
            if (all) {
                slots[k].copy_(slots[k - 1]);
            } else {
                slots[k].index_copy_(0, idx, slots[k - 1].index_select(0, idx));
            }
            for (int r : rowIds) {
                steps[k][r] = steps[k - 1][r];
            }
        }
        if (all) {
            slots[0].copy_(value);
        } else {
            slots[0].index_copy_(0, idx, value);
        }
        for (int r : rowIds) {
            steps[0][r] = step;
        }
    }

    /**
     * The value forecast at {@code step} for rows {@code rowIds}: the polynomial of degree
     * {@code min(order, entries - 1)} through each row's newest entries (order 0: the newest entry itself).
     */
    public Tensor forecast(int[] rowIds, int step, int order) {
        boolean all = rowIds.length == rows;
        int use = order + 1;
        for (int r : rowIds) {
            use = Math.min(use, available(r));
        }
        if (use < 1) {
            throw new IllegalStateException("no cached value for a row that reuses");
        }
        Tensor idx = all ? null : index(rowIds, slots[0]);
        Tensor newest = all ? slots[0] : slots[0].index_select(0, idx);
        if (use == 1) {
            return all ? newest.clone() : newest;
        }
        double[][] w = new double[rowIds.length][];
        boolean same = true;
        for (int i = 0; i < rowIds.length; i++) {
            int[] known = new int[use];
            for (int k = 0; k < use; k++) {
                known[k] = steps[k][rowIds[i]];
            }
            w[i] = Extrapolation.weights(known, step);
            same &= Arrays.equals(w[i], w[0]);
        }
        Tensor out = null;
        for (int k = 0; k < use; k++) {
            Tensor v = k == 0 ? newest : all ? slots[k] : slots[k].index_select(0, idx);
            Tensor term;
            if (same) {
                term = v.mul(Tensors.scalar(w[0][k]));
            } else {
                float[] col = new float[rowIds.length];
                for (int i = 0; i < rowIds.length; i++) {
                    col[i] = (float) w[i][k];
                }
                long[] shape = new long[(int) v.dim()];
                Arrays.fill(shape, 1);
                shape[0] = rowIds.length;
                Tensor weights = Tensors.fromFloats(col, shape);
                term = v.mul(v.is_cuda() ? weights.to(v.device(), ScalarType.Float) : weights);
            }
            out = out == null ? term : out.add(term);
        }
        return out;
    }

    /** The bytes of the tensors held (none before the first {@link #update}). */
    public long bytes() {
        long n = 0;
        for (Tensor t : slots) {
            n += t == null ? 0 : t.nbytes();
        }
        return n;
    }

    /** The row indices as an int64 tensor on {@code like}'s device (index_select wants them there). */
    private static Tensor index(int[] rowIds, Tensor like) {
        Tensor idx = Tensors.fromLongs(Arrays.stream(rowIds).asLongStream().toArray(), rowIds.length);
        return like.is_cuda() ? idx.to(like.device(), ScalarType.Long) : idx;
    }

    @Override
    public void close() {
        for (int k = 0; k < history; k++) {
            if (slots[k] != null) {
                slots[k].releaseReference();
                slots[k] = null;
            }
        }
    }
}
