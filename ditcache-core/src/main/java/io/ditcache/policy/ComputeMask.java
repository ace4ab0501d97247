package io.ditcache.policy;

import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A static plan of what each block does at each step: a {@code [step][layer]} grid over an N-step run of L blocks,
 * either of booleans ({@code true} = compute, {@code false} = reuse the block's cached residual) or of
 * {@link CellDecision}s (also: reuse attention and/or feed-forward outputs, forecast the residual), with each
 * block's cost (its
 * {@link io.ditcache.Block#cost()}, relative; all 1 unless the blocks differ), how it was chosen (a
 * {@link Criterion}), the error it is estimated to cost ({@link ReuseErrorModel}) and the profile it came from.
 * The computed fraction weighs each cell by its block's cost and the share of the block's parts that run.
 *
 * <p>Step 0 computes every block: nothing is cached before it. Immutable; files: {@link #write} (format
 * {@value #FORMAT}, or {@value #WEIGHTED_FORMAT} with a {@code "layer_costs"} key where the blocks' costs
 * differ, or {@value #DECISIONS_FORMAT} where a cell is neither compute nor whole-block reuse) and {@link #read},
 * which reads all three.
 */
public final class ComputeMask {
    /** The JSON format tag. */
    public static final String FORMAT = "ditcache-mask/1";
    /** The JSON format tag of a mask whose blocks have different costs. */
    public static final String WEIGHTED_FORMAT = "ditcache-mask/2";
    /**
     * The JSON format tag of a mask with decisions other than compute and whole-block reuse ({@link CellDecision}):
     * per step a string of one letter per block, and the blocks' parts.
     */
    public static final String DECISIONS_FORMAT = "ditcache-mask/3";
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

    private final CellDecision[][] decisions;
    /** Per layer the block's parts, where a decision reuses parts; else null. */
    private final List<Set<BlockPart>> parts;
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
        this(decisionsOf(compute), costs, null, criterion, estimatedError, source);
    }

    /**
     * A mask of per-cell decisions for {@code layout}'s blocks (their costs and parts).
     *
     * @param decisions {@code [step][layer]}; copied. Rectangular, step 0 all {@link CellDecision#COMPUTE}, each
     *                  decision one its block can take ({@link CellDecision#fits})
     */
    public ComputeMask(CellDecision[][] decisions, BlockLayout layout, Criterion criterion, double estimatedError,
            String source) {
        this(decisions, layout.costs(), partsOf(decisions, layout), criterion, estimatedError, source);
    }

    ComputeMask(CellDecision[][] decisions, double[] costs, List<Set<BlockPart>> parts, Criterion criterion,
            double estimatedError, String source) {
        Objects.requireNonNull(decisions, "decisions");
        this.criterion = Objects.requireNonNull(criterion, "criterion");
        this.source = Objects.requireNonNull(source, "source");
        if (decisions.length < 1 || decisions[0] == null || decisions[0].length < 1) {
            throw new IllegalArgumentException("a mask needs at least 1 step and 1 layer");
        }
        int layers = decisions[0].length;
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
        if (parts != null && parts.size() != layers) {
            throw new IllegalArgumentException("mask has " + layers + " layers but " + parts.size()
                    + " layers' parts");
        }
        this.parts = parts == null ? null : List.copyOf(parts.stream().map(p -> p.isEmpty() ? Set.<BlockPart>of()
                : Collections.unmodifiableSet(EnumSet.copyOf(p))).toList());
        double cost = 0;
        this.decisions = new CellDecision[decisions.length][];
        int n = 0;
        for (int t = 0; t < decisions.length; t++) {
            if (decisions[t] == null || decisions[t].length != layers) {
                throw new IllegalArgumentException("step " + t + " has " + (decisions[t] == null ? 0
                        : decisions[t].length) + " layers, step 0 has " + layers);
            }
            this.decisions[t] = decisions[t].clone();
            for (int l = 0; l < layers; l++) {
                CellDecision d = Objects.requireNonNull(decisions[t][l], "decision");
                if (t == 0 && d != CellDecision.COMPUTE) {
                    throw new IllegalArgumentException("step 0, layer " + l + " is "
                            + (d == CellDecision.REUSE_BLOCK ? "reused" : d.toString()) + ": step 0 must compute "
                            + "every block (nothing is cached before it)");
                }
                if (d.reusesParts() && (this.parts == null || !d.fits(this.parts.get(l)))) {
                    throw new IllegalArgumentException("step " + t + ", layer " + l + " is " + d + ", but the block"
                            + (this.parts == null ? "s' parts are not known" : " has parts " + this.parts.get(l)));
                }
                n += d == CellDecision.COMPUTE ? 1 : 0;
                cost += this.costs[l] * share(d, l);
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

    private static CellDecision[][] decisionsOf(boolean[][] compute) {
        Objects.requireNonNull(compute, "compute");
        CellDecision[][] out = new CellDecision[compute.length][];
        for (int t = 0; t < compute.length; t++) {
            if (compute[t] == null) {
                continue; // reported by the constructor
            }
            out[t] = new CellDecision[compute[t].length];
            for (int l = 0; l < compute[t].length; l++) {
                out[t][l] = compute[t][l] ? CellDecision.COMPUTE : CellDecision.REUSE_BLOCK;
            }
        }
        return out;
    }

    /** The layout's parts where some decision reuses parts, else null (the mask is a plain one). */
    private static List<Set<BlockPart>> partsOf(CellDecision[][] decisions, BlockLayout layout) {
        boolean any = Arrays.stream(decisions).filter(Objects::nonNull).flatMap(Arrays::stream)
                .anyMatch(d -> d != null && d.reusesParts());
        return any ? layout.blocks().stream().map(Block::parts).toList() : null;
    }

    /** The share of layer {@code l}'s block that decision {@code d} computes. */
    private double share(CellDecision d, int l) {
        return d == CellDecision.COMPUTE ? 1 : d.skipsBlock() ? 0 : d.computedShare(parts.get(l));
    }

    /** Steps N of the run. */
    public int steps() {
        return decisions.length;
    }

    /** Blocks L of the model. */
    public int layers() {
        return decisions[0].length;
    }

    /** Whether the block {@code layer} runs at {@code step}, all of it. */
    public boolean computes(int step, int layer) {
        return decisions[step][layer] == CellDecision.COMPUTE;
    }

    /** A copy of the {@code [step][layer]} grid, {@code true} where the whole block runs. */
    public boolean[][] compute() {
        boolean[][] out = new boolean[steps()][layers()];
        for (int t = 0; t < steps(); t++) {
            for (int l = 0; l < layers(); l++) {
                out[t][l] = computes(t, l);
            }
        }
        return out;
    }

    /** What block {@code layer} does at {@code step}. */
    public CellDecision decision(int step, int layer) {
        return decisions[step][layer];
    }

    /** A copy of the {@code [step][layer]} decisions. */
    public CellDecision[][] decisions() {
        return Arrays.stream(decisions).map(CellDecision[]::clone).toArray(CellDecision[][]::new);
    }

    /** Whether some cell reuses parts (the mask then knows its blocks' parts and is written as {@value
     * #DECISIONS_FORMAT}). */
    public boolean hasPartDecisions() {
        return parts != null;
    }

    /** Whether some cell is a decision other than compute and whole-block reuse. */
    public boolean hasDecisions() {
        return Arrays.stream(decisions).flatMap(Arrays::stream)
                .anyMatch(d -> d != CellDecision.COMPUTE && d != CellDecision.REUSE_BLOCK);
    }

    /** The parts of each layer's block, where the mask reuses parts; else empty. */
    public java.util.Optional<List<Set<BlockPart>>> layerParts() {
        return java.util.Optional.ofNullable(parts);
    }

    /** Block evaluations computed whole. */
    public int computedCount() {
        return computed;
    }

    /** Computed block evaluations over all {@code steps * layers} of them, each weighed by its block's cost. */
    public double computedFraction() {
        double total = 0;
        for (double c : costs) {
            total += c;
        }
        return weighted() || hasDecisions() ? computedCost / (total * steps())
                : (double) computed / ((long) steps() * layers());
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
     * computes, {@code .} where it is reused, and for the other decisions {@code a} (attention reused), {@code f}
     * (feed-forward reused), {@code p} (all parts reused) and {@code t} (forecast).
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
                sb.append(switch (decisions[t][l]) {
                    case COMPUTE -> '#';
                    case REUSE_BLOCK -> '.';
                    default -> Character.toLowerCase(decisions[t][l].code());
                });
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
        return o instanceof ComputeMask m && Arrays.deepEquals(decisions, m.decisions)
                && Arrays.equals(costs, m.costs) && Objects.equals(parts, m.parts)
                && criterion.equals(m.criterion)
                && Double.compare(estimatedError, m.estimatedError) == 0 && source.equals(m.source);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.deepHashCode(decisions), Arrays.hashCode(costs), parts, criterion, estimatedError,
                source);
    }
}
