package io.ditcache.cache;

import io.ditcache.internal.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The batch rows a block runs for: all of them, or those that share a decision. A block selects its per-row
 * conditioning (timesteps, labels, text embeddings, masks) with {@link #select}.
 */
public final class Rows {
    private final int[] ids;
    private final int total;
    private Tensor index;

    /**
     * @param ids   distinct row indices in increasing order, in {@code [0, total)}
     * @param total rows in the batch
     */
    public Rows(int[] ids, int total) {
        this.ids = ids.clone();
        this.total = total;
        for (int k = 0; k < this.ids.length; k++) {
            if (this.ids[k] < 0 || this.ids[k] >= total || (k > 0 && this.ids[k] <= this.ids[k - 1])) {
                throw new IllegalArgumentException("rows " + Arrays.toString(ids) + ": expected increasing indices"
                        + " in [0, " + total + ")");
            }
        }
        if (this.ids.length == 0) {
            throw new IllegalArgumentException("rows: expected at least one of " + total);
        }
    }

    /** Every row of a batch of {@code total}. */
    public static Rows all(int total) {
        int[] ids = new int[total];
        Arrays.setAll(ids, i -> i);
        return new Rows(ids, total);
    }

    /** Whether these are all the batch's rows (then {@link #select} returns its argument itself). */
    public boolean all() {
        return ids.length == total;
    }

    /** The row indices (a copy). */
    public int[] ids() {
        return ids.clone();
    }

    int[] idsView() {
        return ids;
    }

    /** How many rows. */
    public int size() {
        return ids.length;
    }

    /** Rows in the batch. */
    public int total() {
        return total;
    }

    /**
     * {@code t} restricted to these rows along dimension 0; {@code t} itself when these are all rows, or when it
     * has one row (a value broadcast over the batch).
     */
    public Tensor select(Tensor t) {
        if (all() || t.size(0) == 1 && total > 1) {
            return t;
        }
        if (t.size(0) != total) {
            throw new IllegalArgumentException("tensor with " + t.size(0) + " rows, expected " + total + " or 1");
        }
        return t.index_select(0, index(t));
    }

    /** The row indices as an int64 tensor on {@code like}'s device. */
    Tensor index(Tensor like) {
        if (index == null) {
            index = Tensors.fromLongs(Arrays.stream(ids).asLongStream().toArray(), ids.length);
        }
        return like.is_cuda() ? index.to(like.device(), ScalarType.Long) : index;
    }

    @Override
    public String toString() {
        return Arrays.toString(ids) + " of " + total;
    }
}
