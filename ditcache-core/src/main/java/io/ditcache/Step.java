package io.ditcache;

import java.util.List;
import java.util.Objects;

/**
 * One call of the transformer in denoising order, with the guidance branch of each batch row.
 *
 * <p>Rows of the same branch are samples {@code 0, 1, ...} in the order they appear. A batched
 * classifier-free-guidance call of {@code B} samples therefore has {@code B} rows of {@link Branch#COND}
 * followed (or preceded) by {@code B} rows of {@link Branch#UNCOND}.
 *
 * @param index    call index {@code i = 0 .. count-1}
 * @param count    number of calls in the run ({@code N})
 * @param timestep the scheduler's timestep of this call
 * @param rows     branch of each batch row
 */
public record Step(int index, int count, double timestep, List<Branch> rows) {
    public Step {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, got " + count);
        }
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("index must be in [0, " + (count - 1) + "], got " + index);
        }
        rows = List.copyOf(Objects.requireNonNull(rows, "rows"));
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("rows must not be empty");
        }
    }

    /** A step whose {@code batch} rows are all conditional (no guidance). */
    public static Step conditional(int index, int count, double timestep, int batch) {
        return new Step(index, count, timestep, java.util.Collections.nCopies(batch, Branch.COND));
    }

    /** Sample index of {@code row} within its branch. */
    public int sampleOf(int row) {
        Branch b = rows.get(row);
        int s = 0;
        for (int r = 0; r < row; r++) {
            if (rows.get(r) == b) {
                s++;
            }
        }
        return s;
    }
}
