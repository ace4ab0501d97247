package io.ditcache.policy;

import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.StepAxis;
import io.ditcache.TokenStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * MagCache: skips whole steps while the error accumulated from per-step magnitude ratios stays small. The ratio
 * of step {@code i} is {@code gamma_i = |r_i| / |r_{i-1}|}, a residual's norm relative to the previous step's,
 * taken from a profile, not measured. At a step past the retention phase each row multiplies its running ratio
 * product by {@code gamma_i}, adds {@code |1 - product|} to its error and skips the step (every block
 * {@link Decision#REUSE_BLOCK}) while the error is below {@code threshold} and this is at most the {@code maxSkips}-th
 * consecutive skip; otherwise it computes and restarts product, error and skip count. Steps
 * {@code i < floor(retention * steps)} and step 0 always compute.
 *
 * <p>Ratio source: our profiles have no whole-network residual site, so {@link #ratios} takes the per-block
 * residual norm ratio ({@link SiteKind#BLOCK_RESIDUAL} / {@link DistanceMetric#NORM_RATIO}) averaged over
 * layers. A ratio curve of any length is resampled onto the run's {@code steps - 1} transitions along the
 * normalised step axis ({@link StepAxis#resample}), so a 50-step profile serves a 20-step run. Like MagCache's
 * own interpolation of calibrated ratios, this does not compound the ratios of the transitions a longer step
 * spans; calibrate at the run's step count where that matters.
 */
public final class MagCachePolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "magcache";

    private final double threshold;
    private final int maxSkips;
    private final double retention;
    private final double[] ratios;
    private final double[] unconditionalRatios;
    /** Ratios resampled to a run's step count, per branch; a function of the parameters, kept across runs. */
    private final Map<Branch, Map<Integer, double[]>> resampled = new HashMap<>();
    private final Map<Row, RowState> rows = new HashMap<>();

    private static final class RowState {
        int decidedStep = -1;
        boolean reuse;
        double product = 1;
        double error;
        int skips;
    }

    /**
     * @param threshold           skip while the accumulated error is below this, a finite number {@code >= 0}
     *                            (no default in {@link Policies}); 0 computes everything
     * @param maxSkips            K: at most this many consecutive skipped steps per row, {@code >= 0} (default:
     *                            2); 0 computes everything
     * @param retention           fraction of leading steps that always compute, in {@code [0, 1]} (default: 0.2)
     * @param ratios              the conditional branch's ratio curve, {@code ratios[j] = |r_{j+1}| / |r_j|} on an
     *                            evenly spaced step grid of any length: finite and {@code > 0} (no default without
     *                            a profile; with one, {@link #ratios} of it)
     * @param unconditionalRatios the unconditional branch's curve, same rules; {@code null} to use {@code ratios}
     *                            (default: the profile's UNCOND curve where it has one, else {@code ratios})
     */
    public MagCachePolicy(double threshold, int maxSkips, double retention, double[] ratios,
            double[] unconditionalRatios) {
        this.threshold = ParameterChecks.nonNegative(NAME, "threshold", threshold);
        this.maxSkips = ParameterChecks.atLeast(NAME, "maxSkips", maxSkips, 0);
        this.retention = ParameterChecks.inRange(NAME, "retention", retention, 0, 1);
        this.ratios = ParameterChecks.finiteValues(NAME, "ratios", ratios, true);
        this.unconditionalRatios = unconditionalRatios == null ? this.ratios
                : ParameterChecks.finiteValues(NAME, "unconditionalRatios", unconditionalRatios, true);
    }

    /** K = 2, retention 0.2, one ratio curve for both branches. */
    public MagCachePolicy(double threshold, double[] ratios) {
        this(threshold, 2, 0.2, ratios, null);
    }

    /** A policy with the {@link #ratios} of {@code profile}: per branch where it has UNCOND series. */
    public static MagCachePolicy fromProfile(RedundancyProfile profile, double threshold, int maxSkips,
            double retention) {
        double[] cond = ratios(profile, Branch.COND);
        double[] uncond = hasBranch(profile, Branch.UNCOND) ? ratios(profile, Branch.UNCOND) : null;
        return new MagCachePolicy(threshold, maxSkips, retention, cond, uncond);
    }

    /**
     * The ratio curve of one branch: per profile column, the mean over layers of the finite
     * {@link SiteKind#BLOCK_RESIDUAL} / {@link DistanceMetric#NORM_RATIO} means of image tokens; from a profile
     * without residuals (a whole model cached per step), its last layer's {@link SiteKind#BLOCK_OUT} ratio.
     *
     * @throws IllegalArgumentException when the profile lacks the series or a column has no finite value
     */
    public static double[] ratios(RedundancyProfile profile, Branch branch) {
        SeriesKey residual = key(branch);
        SeriesKey key = residual;
        ProfileSeries s = profile.series(key).orElse(null);
        int fromLayer = 0;
        if (s == null) {
            // a whole model profiled per step (BlockLayout.wholeModel) has no residual: the ratio of its outputs
            SeriesKey output = outputKey(branch);
            s = profile.series(output).orElseThrow(() -> new IllegalArgumentException(NAME + ": the ratios need the "
                    + "profile series " + residual + " (or, for a model cached per step, " + output + "), which the "
                    + "profile does not have"));
            key = output;
            fromLayer = s.layers() - 1;
        }
        double[] out = new double[s.steps()];
        for (int c = 0; c < out.length; c++) {
            double sum = 0;
            int n = 0;
            for (int l = fromLayer; l < s.layers(); l++) {
                double v = s.mean(l, c);
                if (Double.isFinite(v)) {
                    sum += v;
                    n++;
                }
            }
            if (n == 0) {
                throw new IllegalArgumentException(NAME + ": profile series " + key + " has no finite value in"
                        + " column " + c + " (transition from step " + c + " to " + (c + 1) + ")");
            }
            out[c] = sum / n;
        }
        return out;
    }

    private static SeriesKey key(Branch branch) {
        return new SeriesKey(SiteKind.BLOCK_RESIDUAL, TokenStream.IMAGE, branch, DistanceMetric.NORM_RATIO);
    }

    private static SeriesKey outputKey(Branch branch) {
        return new SeriesKey(SiteKind.BLOCK_OUT, TokenStream.IMAGE, branch, DistanceMetric.NORM_RATIO);
    }

    static boolean hasBranch(RedundancyProfile profile, Branch branch) {
        return profile.series(key(branch)).isPresent() || profile.series(key(Branch.COND)).isEmpty()
                && profile.series(outputKey(branch)).isPresent();
    }

    /** The conditional branch's ratio curve (a copy). */
    public double[] ratios() {
        return ratios.clone();
    }

    /** The unconditional branch's ratio curve (a copy). */
    public double[] unconditionalRatios() {
        return unconditionalRatios.clone();
    }

    /** {@code gamma_step} of a run of {@code steps} steps, {@code step >= 1}, for one branch. */
    public double ratio(Branch branch, int step, int steps) {
        if (step < 1 || step >= steps) {
            throw new IllegalArgumentException("step " + step + " not in [1, " + steps + ")");
        }
        double[] curve = branch == Branch.UNCOND ? unconditionalRatios : ratios;
        double[] onRun = resampled.computeIfAbsent(branch, b -> new HashMap<>()).computeIfAbsent(steps - 1,
                points -> points == curve.length ? curve : StepAxis.resample(curve, points));
        return onRun[step - 1];
    }

    @Override
    public Decision decide(Query query) {
        RowState s = rows.computeIfAbsent(Row.of(query), r -> new RowState());
        int step = query.step();
        if (s.decidedStep != step) {
            s.decidedStep = step;
            s.reuse = false;
            int retained = (int) Math.floor(retention * query.steps() + 1e-9);
            if (step > 0 && step >= retained) {
                s.product *= ratio(query.branch(), step, query.steps());
                s.skips++;
                s.error += Math.abs(1 - s.product);
                s.reuse = s.error < threshold && s.skips <= maxSkips;
            }
            if (!s.reuse) {
                s.product = 1;
                s.error = 0;
                s.skips = 0;
            }
        }
        return s.reuse ? Decision.REUSE_BLOCK : Decision.COMPUTE;
    }

    @Override
    public void reset() {
        rows.clear();
    }

    /** Whole blocks only: no part slots are kept. */
    @Override
    public Set<Decision> decisions() {
        return Policies.BLOCK_REUSE;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Object> describe() {
        return Policies.description(NAME, "threshold", threshold, "maxSkips", maxSkips, "retention", retention,
                "ratios", Policies.list(ratios), "unconditionalRatios", Policies.list(unconditionalRatios));
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
