package io.ditcache;

import io.ditcache.CachePolicy.Decision;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What cache points actually did in one sampling run: the decision applied to every (step, layer, row), with
 * each row's branch and sample. From it: counts per decision, per step, per layer and per branch, the fraction
 * of block evaluations skipped, a trace, and a summary for the terminal and for JSON.
 *
 * <p>A block evaluation is the block's parts (its {@link Block#parts()}, counted alike): a whole-block reuse skips
 * all of it, a part reuse the reused parts' share ({@link Decision#skipped}), e.g. half of a DiT block for its
 * attention alone.
 */
public final class CacheStats {
    private int steps;
    private int layers;
    private List<Branch> branches = List.of();
    private List<Integer> samples = List.of();
    private BlockLayout layout;
    private Decision[][][] applied = new Decision[0][0][0];

    /** Starts recording a run over a {@link BlockLayout#plain} stack of {@code layers} blocks. */
    public void begin(int steps, int layers, List<Branch> rowBranches, List<Integer> rowSamples) {
        begin(steps, BlockLayout.plain(layers), rowBranches, rowSamples);
    }

    /** Starts recording a run; called by the cache runtime. */
    public void begin(int steps, BlockLayout layout, List<Branch> rowBranches, List<Integer> rowSamples) {
        this.steps = steps;
        this.layout = layout;
        this.layers = layout.size();
        this.branches = List.copyOf(rowBranches);
        this.samples = List.copyOf(rowSamples);
        this.applied = new Decision[steps][layers][rowBranches.size()];
    }

    /** Records the decision applied at one (step, layer, row). */
    public void record(int step, int layer, int row, Decision decision) {
        applied[step][layer][row] = decision;
    }

    public int steps() {
        return steps;
    }

    public int layers() {
        return layers;
    }

    /** The blocks of the recorded run (null before {@link #begin}). */
    public BlockLayout layout() {
        return layout;
    }

    public int rows() {
        return branches.size();
    }

    /** The decision applied, or null where none was recorded. */
    public Decision applied(int step, int layer, int row) {
        return applied[step][layer][row];
    }

    /** How often each decision was applied. */
    public Map<Decision, Long> counts() {
        Map<Decision, Long> out = new LinkedHashMap<>();
        out.put(Decision.COMPUTE, 0L);
        out.put(Decision.REUSE_BLOCK, 0L);
        forEach((s, l, r, d) -> out.merge(d, 1L, Long::sum));
        return out;
    }

    /** Fraction of block evaluations (attention + feed-forward) skipped, over every recorded cell. */
    public double skippedFraction() {
        double[] sum = new double[2];
        forEach((s, l, r, d) -> {
            sum[0] += d.skipped(layout.block(l));
            sum[1]++;
        });
        return sum[1] == 0 ? 0 : sum[0] / sum[1];
    }

    /** Fraction skipped per step (over layers and rows). */
    public double[] skippedPerStep() {
        double[] out = new double[steps];
        int[] n = new int[steps];
        forEach((s, l, r, d) -> {
            out[s] += d.skipped(layout.block(l));
            n[s]++;
        });
        for (int s = 0; s < steps; s++) {
            out[s] = n[s] == 0 ? 0 : out[s] / n[s];
        }
        return out;
    }

    /** Fraction skipped per layer (over steps and rows). */
    public double[] skippedPerLayer() {
        double[] out = new double[layers];
        int[] n = new int[layers];
        forEach((s, l, r, d) -> {
            out[l] += d.skipped(layout.block(l));
            n[l]++;
        });
        for (int l = 0; l < layers; l++) {
            out[l] = n[l] == 0 ? 0 : out[l] / n[l];
        }
        return out;
    }

    /** Fraction skipped per branch. */
    public Map<Branch, Double> skippedPerBranch() {
        Map<Branch, double[]> acc = new EnumMap<>(Branch.class);
        forEach((s, l, r, d) -> {
            double[] a = acc.computeIfAbsent(branches.get(r), b -> new double[2]);
            a[0] += d.skipped(layout.block(l));
            a[1]++;
        });
        Map<Branch, Double> out = new EnumMap<>(Branch.class);
        acc.forEach((b, a) -> out.put(b, a[0] / a[1]));
        return out;
    }

    /** Fraction skipped per batch row (a sample of a branch: {@link #rowBranches()}, {@link #rowSamples()}). */
    public double[] skippedPerRow() {
        double[] out = new double[rows()];
        int[] n = new int[rows()];
        forEach((s, l, r, d) -> {
            out[r] += d.skipped(layout.block(l));
            n[r]++;
        });
        for (int r = 0; r < out.length; r++) {
            out[r] = n[r] == 0 ? 0 : out[r] / n[r];
        }
        return out;
    }

    /**
     * The trace of one row: per step, one character per layer ({@code C} compute, {@code R} whole block reused,
     * {@code T} whole block forecast by a decision's own Taylor order,
     * {@code a} attention parts reused, {@code m} feed-forward parts reused, {@code b} both).
     */
    public List<String> trace(int row) {
        List<String> out = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            StringBuilder b = new StringBuilder();
            for (int l = 0; l < layers; l++) {
                Decision d = applied[s][l][row];
                b.append(letter(d));
            }
            out.add(b.toString());
        }
        return out;
    }

    /** JSON-friendly summary: counts, skipped fractions (overall, per branch, per step, per layer), row 0's trace. */
    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", steps);
        m.put("layers", layers);
        m.put("rows", rows());
        Map<String, Long> counts = new LinkedHashMap<>();
        counts().forEach((d, c) -> counts.put(d.name(), c));
        m.put("counts", counts);
        m.put("skipped_fraction", skippedFraction());
        Map<String, Double> perBranch = new LinkedHashMap<>();
        skippedPerBranch().forEach((b, v) -> perBranch.put(b.name(), v));
        m.put("skipped_per_branch", perBranch);
        m.put("skipped_per_step", skippedPerStep());
        m.put("skipped_per_layer", skippedPerLayer());
        List<Map<String, Object>> perRow = new ArrayList<>();
        double[] rowFractions = skippedPerRow();
        for (int r = 0; r < rows(); r++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("branch", branches.get(r).name());
            row.put("sample", samples.get(r));
            row.put("skipped_fraction", rowFractions[r]);
            perRow.add(row);
        }
        m.put("skipped_per_row", perRow);
        if (rows() > 0) {
            m.put("trace_row_0", trace(0));
        }
        return m;
    }

    /** One line for the terminal. */
    @Override
    public String toString() {
        StringBuilder c = new StringBuilder();
        counts().forEach((d, n) -> c.append(c.length() == 0 ? "" : ", ").append(d.name()).append(' ').append(n));
        return String.format(Locale.ROOT, "%d steps x %d layers x %d rows: %.1f%% of block evaluations skipped "
                + "(%s)", steps, layers, rows(), 100 * skippedFraction(), c);
    }

    private static char letter(Decision d) {
        if (d == null) {
            return '.';
        }
        if (d.wholeBlock()) {
            return d.order() > 0 ? 'T' : 'R';
        }
        boolean attention = d.reused().stream().anyMatch(BlockPart::isAttention);
        boolean feedForward = d.reused().stream().anyMatch(BlockPart::isFeedForward);
        return attention && feedForward ? 'b' : attention ? 'a' : feedForward ? 'm' : 'C';
    }

    private interface CellVisitor {
        void visit(int step, int layer, int row, Decision d);
    }

    private void forEach(CellVisitor v) {
        for (int s = 0; s < steps; s++) {
            for (int l = 0; l < layers; l++) {
                for (int r = 0; r < branches.size(); r++) {
                    if (applied[s][l][r] != null) {
                        v.visit(s, l, r, applied[s][l][r]);
                    }
                }
            }
        }
    }

    /** Sample index of each row within its branch. */
    public List<Integer> rowSamples() {
        return samples;
    }

    /** Branch of each row. */
    public List<Branch> rowBranches() {
        return branches;
    }
}
