package io.ditcache.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * A static plan of which blocks run: a {@code [step][layer]} grid of booleans over an N-step run of L blocks
 * ({@code true} = compute, {@code false} = reuse the block's cached residual), with each block's cost (its
 * {@link io.ditcache.Block#cost()}, relative; all 1 unless the blocks differ), how it was chosen (a
 * {@link Criterion}), the error it is estimated to cost ({@link ReuseErrorModel}) and the profile it came from.
 * The computed fraction weighs each cell by its block's cost.
 *
 * <p>Step 0 computes every block: nothing is cached before it. Immutable; files: {@link #write} (format
 * {@value #FORMAT}, or {@value #WEIGHTED_FORMAT} with a {@code "layer_costs"} key where the blocks' costs
 * differ) and {@link #read}.
 */
public final class ComputeMask {
    /** The JSON format tag. */
    public static final String FORMAT = "ditcache-mask/1";
    /** The JSON format tag of a mask whose blocks have different costs. */
    public static final String WEIGHTED_FORMAT = "ditcache-mask/2";
    /** The most steps a mask file may claim: a sampling run takes at most 10,000. */
    public static final int MAX_STEPS = 10_000;
    /** The most blocks a mask file may claim. */
    public static final int MAX_LAYERS = 10_000;

    /** What a mask was chosen to meet. */
    public sealed interface Criterion permits Budget, TargetError {
    }

    /**
     * At most this fraction of the block evaluations of a run computed, each weighed by its block's cost.
     *
     * @param fraction in (0, 1]
     */
    public record Budget(double fraction) implements Criterion {
        public Budget {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("budget " + fraction + ": expected a fraction in (0, 1]");
            }
        }
    }

    /**
     * At most this much estimated error ({@link ReuseErrorModel}).
     *
     * @param maxError finite, >= 0
     */
    public record TargetError(double maxError) implements Criterion {
        public TargetError {
            if (!(maxError >= 0) || !Double.isFinite(maxError)) {
                throw new IllegalArgumentException("target error " + maxError + ": expected a finite number >= 0");
            }
        }
    }

    private final boolean[][] compute;
    private final double[] costs;
    private final Criterion criterion;
    private final double estimatedError;
    private final String source;
    private final int computed;
    private final double computedCost;

    /**
     * @param compute        {@code [step][layer]}, {@code true} = compute; copied. At least one step and one layer,
     *                       rectangular, step 0 all {@code true}
     * @param criterion      what the mask meets: its computed fraction is within a {@link Budget}, its estimated
     *                       error within a {@link TargetError}
     * @param estimatedError finite, >= 0
     * @param source         where the mask came from, e.g. the profile's model and scheduler
     */
    public ComputeMask(boolean[][] compute, Criterion criterion, double estimatedError, String source) {
        this(compute, null, criterion, estimatedError, source);
    }

    /**
     * A mask over blocks of different costs.
     *
     * @param costs per layer, finite and {@code > 0}, or null for all 1; copied
     */
    public ComputeMask(boolean[][] compute, double[] costs, Criterion criterion, double estimatedError,
            String source) {
        Objects.requireNonNull(compute, "compute");
        this.criterion = Objects.requireNonNull(criterion, "criterion");
        this.source = Objects.requireNonNull(source, "source");
        if (compute.length < 1 || compute[0] == null || compute[0].length < 1) {
            throw new IllegalArgumentException("a mask needs at least 1 step and 1 layer");
        }
        int layers = compute[0].length;
        // equal costs are no weights: such a mask is the unweighted one, whatever the common value
        this.costs = costs == null || Arrays.stream(costs).distinct().count() == 1 ? uniform(layers) : costs.clone();
        if (this.costs.length != layers) {
            throw new IllegalArgumentException("mask has " + layers + " layers but " + costs.length
                    + " layer costs");
        }
        for (int l = 0; l < layers; l++) {
            if (!(this.costs[l] > 0) || !Double.isFinite(this.costs[l])) {
                throw new IllegalArgumentException("layer " + l + " cost " + this.costs[l]
                        + ": expected a finite number > 0");
            }
        }
        double cost = 0;
        this.compute = new boolean[compute.length][];
        int n = 0;
        for (int t = 0; t < compute.length; t++) {
            if (compute[t] == null || compute[t].length != layers) {
                throw new IllegalArgumentException("step " + t + " has " + (compute[t] == null ? 0
                        : compute[t].length) + " layers, step 0 has " + layers);
            }
            this.compute[t] = compute[t].clone();
            for (int l = 0; l < layers; l++) {
                if (compute[t][l]) {
                    n++;
                    cost += this.costs[l];
                } else if (t == 0) {
                    throw new IllegalArgumentException("step 0, layer " + l + " is reused: step 0 must compute "
                            + "every block (nothing is cached before it)");
                }
            }
        }
        this.computed = n;
        this.computedCost = cost;
        if (!(estimatedError >= 0) || !Double.isFinite(estimatedError)) {
            throw new IllegalArgumentException("estimated error " + estimatedError
                    + ": expected a finite number >= 0");
        }
        this.estimatedError = estimatedError;
        if (criterion instanceof Budget b && computedFraction() > b.fraction()) {
            throw new IllegalArgumentException("computed fraction " + computedFraction() + " exceeds the budget "
                    + b.fraction());
        }
        if (criterion instanceof TargetError e && estimatedError > e.maxError()) {
            throw new IllegalArgumentException("estimated error " + estimatedError + " exceeds the target "
                    + e.maxError());
        }
    }

    /** Steps N of the run. */
    public int steps() {
        return compute.length;
    }

    /** Blocks L of the model. */
    public int layers() {
        return compute[0].length;
    }

    /** Whether the block {@code layer} runs at {@code step}. */
    public boolean computes(int step, int layer) {
        return compute[step][layer];
    }

    /** A copy of the {@code [step][layer]} grid. */
    public boolean[][] compute() {
        return Arrays.stream(compute).map(boolean[]::clone).toArray(boolean[][]::new);
    }

    /** Block evaluations computed. */
    public int computedCount() {
        return computed;
    }

    /** Computed block evaluations over all {@code steps * layers} of them, each weighed by its block's cost. */
    public double computedFraction() {
        double total = 0;
        for (double c : costs) {
            total += c;
        }
        return weighted() ? computedCost / (total * steps()) : (double) computed / ((long) steps() * layers());
    }

    /** Each layer's relative cost (a copy); all 1 unless the blocks differ. */
    public double[] costs() {
        return costs.clone();
    }

    /** Whether the layers' costs differ. */
    public boolean weighted() {
        for (double c : costs) {
            if (c != costs[0]) {
                return true;
            }
        }
        return false;
    }

    private static double[] uniform(int layers) {
        double[] out = new double[layers];
        Arrays.fill(out, 1);
        return out;
    }

    public Criterion criterion() {
        return criterion;
    }

    /** The {@link ReuseErrorModel}'s cost of this mask. */
    public double estimatedError() {
        return estimatedError;
    }

    public String source() {
        return source;
    }

    /** Writes the JSON file atomically (temporary file, then move). */
    public void write(Path file) throws IOException {
        ComputeMaskCodec.write(this, file);
    }

    /** Reads a mask JSON file; every error names the file, the key, the value found and what was expected. */
    public static ComputeMask read(Path file) throws IOException {
        return ComputeMaskCodec.read(file);
    }

    /**
     * The grid for a terminal: a header of layer digits (mod 10), then one row per step, {@code #} where the block
     * computes and {@code .} where it is reused.
     */
    public String grid() {
        int width = Integer.toString(steps() - 1).length();
        StringBuilder sb = new StringBuilder();
        sb.append(" ".repeat(width)).append(' ');
        for (int l = 0; l < layers(); l++) {
            sb.append(l % 10);
        }
        sb.append('\n');
        for (int t = 0; t < steps(); t++) {
            sb.append(String.format(Locale.ROOT, "%" + width + "d ", t));
            for (int l = 0; l < layers(); l++) {
                sb.append(compute[t][l] ? '#' : '.');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The criterion as text, e.g. {@code budget 0.5} or {@code target error 1.2}. */
    static String describe(Criterion c) {
        return c instanceof Budget b ? "budget " + b.fraction()
                : "target error " + ((TargetError) c).maxError();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ComputeMask[%d steps x %d layers, computed %d (%.4f), %s, "
                + "estimated error %.6g, source %s]", steps(), layers(), computed, computedFraction(),
                describe(criterion), estimatedError, source);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ComputeMask m && Arrays.deepEquals(compute, m.compute) && Arrays.equals(costs, m.costs)
                && criterion.equals(m.criterion)
                && Double.compare(estimatedError, m.estimatedError) == 0 && source.equals(m.source);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.deepHashCode(compute), Arrays.hashCode(costs), criterion, estimatedError, source);
    }
}
