package io.ditcache.policy;

import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What each {@link CellDecision} is estimated to cost in error, per block and step, from a
 * {@link RedundancyProfile}: the error of a cached value is the path its site travelled since it was computed (as in
 * {@link ReuseErrorModel}), read from the series of the value that is reused.
 *
 * <p>Per layer {@code l} and transition {@code s} (step {@code s} to {@code s+1}), from relative L1 series
 * ({@link DistanceMetric#L1_REL}, image stream, conditional branch): {@code r(l, s)} of
 * {@link SiteKind#BLOCK_RESIDUAL}, {@code a(l, s)} of {@link SiteKind#ATTN_OUT}, {@code m(l, s)} of
 * {@link SiteKind#MLP_OUT}, and {@code f(l, s)} the first-order forecast error of the block residual (what a line
 * through steps {@code s-1} and {@code s} misses at {@code s+1}) where the profile has it, else {@code r}. A cell
 * at step {@code t} costs
 *
 * <ul>
 *   <li>{@code REUSE_BLOCK}: {@code r(l, k) + ... + r(l, t-1)}, {@code k} the block's last computed step;</li>
 *   <li>{@code FORECAST_BLOCK}: where two computed residuals are cached, at steps {@code k - g} and {@code k},
 *       the miss of the line through them at {@code t = k + h}: under a constant curvature {@code c} per step
 *       squared that is {@code c h (h + g) / 2}, and {@code f} measures {@code c} (the miss at {@code h = g = 1}),
 *       so the cell costs {@code h (h + g) / 2} times the mean of {@code f(l, k-g+1) .. f(l, t-1)}: a forecast far
 *       from stale derivatives costs quadratically more than one step ahead. With only one computed residual
 *       ({@code k = 0}), or without a forecast series, as {@code REUSE_BLOCK} (the runtime reuses the one it
 *       has);</li>
 *   <li>reusing attention: {@code w_a (a(l, k_a) + ... + a(l, t-1))}, {@code k_a} the last step the attention
 *       ran (a compute, or a step that reused only the feed-forward), {@code w_a} the attention parts' share of the
 *       block's parts; feed-forward alike with {@code m}, {@code k_m} and {@code w_m}; reusing both, the sum.</li>
 * </ul>
 *
 * The part errors are relative changes of the part outputs weighed by their share, so that reusing every part
 * (current modulation, stale parts) and reusing the whole block are charged on the same scale.
 *
 * <p>Under a policy that forecasts every reused value ({@link #withForecastedReuse()}, what
 * {@code profile-guided+taylor1} runs), {@code REUSE_BLOCK} is charged as {@code FORECAST_BLOCK}, and part reuse,
 * which the model cannot charge there, is not allowed.
 */
public final class CellErrorModel {
    /** The series of whole-block reuse. */
    public static final SeriesKey RESIDUAL = ReuseErrorModel.SERIES;
    /** The series of attention reuse. */
    public static final SeriesKey ATTENTION = SeriesKey.of(SiteKind.ATTN_OUT, DistanceMetric.L1_REL);
    /** The series of feed-forward reuse. */
    public static final SeriesKey FEED_FORWARD = SeriesKey.of(SiteKind.MLP_OUT, DistanceMetric.L1_REL);

    private final double[][] residual;
    private final double[][] attention;
    private final double[][] feedForward;
    private final double[][] forecast;
    private final boolean measuredForecast;
    private final String source;
    /** Per step, how much an error made there counts; null for all 1. */
    private final double[] stepWeights;
    /** Whether the runtime forecasts every reused value (order 1), a whole-block reuse included. */
    private final boolean forecastedReuse;

    /**
     * @param residual    {@code [layer][transition]} block-residual distances, finite and >= 0
     * @param attention   attention-output distances of the same shape, or null (no attention reuse)
     * @param feedForward feed-forward-output distances, or null (no feed-forward reuse)
     * @param forecast    forecast errors (column 0 is not read), or null to charge forecasts as reuse
     * @param source      where the distances came from
     */
    public CellErrorModel(double[][] residual, double[][] attention, double[][] feedForward, double[][] forecast,
            String source) {
        this.source = Objects.requireNonNull(source, "source");
        this.residual = new ReuseErrorModel(residual, source).distancesCopy();
        this.attention = attention == null ? null : checked(attention, "attention");
        this.feedForward = feedForward == null ? null : checked(feedForward, "feed-forward");
        this.measuredForecast = forecast != null;
        this.forecast = forecast == null ? this.residual : checkedForecast(forecast);
        this.stepWeights = null;
        this.forecastedReuse = false;
    }

    private CellErrorModel(CellErrorModel m, double[] stepWeights, boolean forecastedReuse) {
        this.residual = m.residual;
        this.attention = m.attention;
        this.feedForward = m.feedForward;
        this.forecast = m.forecast;
        this.measuredForecast = m.measuredForecast;
        this.source = m.source;
        this.stepWeights = stepWeights;
        this.forecastedReuse = forecastedReuse;
    }

    /**
     * This model with the error of a cell at step {@code t} counted {@code weights[t]} times, e.g. how much the
     * final sample moves per unit of model output at that step ({@code io.ditcache.sched.StepSensitivity}): an
     * error at a step whose output barely reaches the sample costs little.
     *
     * @param weights one per step, finite and >= 0; copied
     */
    public CellErrorModel withStepWeights(double[] weights) {
        if (weights.length != steps()) {
            throw new IllegalArgumentException(weights.length + " step weights for a " + steps() + "-step run");
        }
        for (int t = 0; t < weights.length; t++) {
            if (!(weights[t] >= 0) || !Double.isFinite(weights[t])) {
                throw new IllegalArgumentException("step weight " + t + " is " + weights[t]
                        + ", expected a finite number >= 0");
            }
        }
        return new CellErrorModel(this, weights.clone(), forecastedReuse);
    }

    /**
     * This model for a policy whose runtime forecasts every reused value by a first-order Taylor expansion
     * ({@code Approximation.taylor(1)}): a whole-block reuse is charged as a forecast, and part reuse (whose
     * forecasts this model does not charge) is not allowed ({@link #allows}).
     */
    public CellErrorModel withForecastedReuse() {
        return new CellErrorModel(this, stepWeights, true);
    }

    /**
     * This model for a plan whose every step treats every block alike ({@link AlignedPlanner}): one layer whose
     * residual and forecast distances are the sums over the layers, with the same step weights and reuse. Every
     * whole-block charge is linear in the distances, so a one-layer plan costs here what the same decisions at
     * every layer cost in this model; there are no part series (part reuse is not planned alike).
     */
    CellErrorModel summedOverLayers() {
        double[][] r = new double[1][residual[0].length];
        double[][] f = measuredForecast ? new double[1][forecast[0].length] : null;
        for (int l = 0; l < residual.length; l++) {
            for (int s = 0; s < r[0].length; s++) {
                r[0][s] += residual[l][s];
                if (f != null) {
                    f[0][s] += forecast[l][s];
                }
            }
        }
        CellErrorModel m = new CellErrorModel(r, null, null, f, source + ", summed over " + residual.length
                + " layers");
        return new CellErrorModel(m, stepWeights, forecastedReuse);
    }

    /** Whether every reused value is forecast ({@link #withForecastedReuse()}). */
    public boolean forecastedReuse() {
        return forecastedReuse;
    }

    /** Whether this model can charge {@code decision}: part reuse not where every reused value is forecast. */
    public boolean allows(CellDecision decision) {
        return !(forecastedReuse && decision.reusesParts());
    }

    /** Whether {@code decision} runs as a forecast of the block residual under this model. */
    boolean forecasts(CellDecision decision) {
        return decision == CellDecision.FORECAST_BLOCK || forecastedReuse && decision == CellDecision.REUSE_BLOCK;
    }

    /**
     * The charge of a whole-block cell at step {@code t} whose block last computed at {@code k}, and {@code g}
     * steps before that ({@code g = 0}: never), from the cumulative residual and forecast distances of its layer.
     */
    double blockCharge(boolean forecast, double[] cumBlock, double[] cumForecast, int k, int g, int t) {
        if (!forecast || g == 0 || !measuredForecast) {
            return cumBlock[t] - cumBlock[k];
        }
        int h = t - k;
        double mean = (cumForecast[t] - cumForecast[k - g + 1]) / (h + g - 1);
        return 0.5 * h * (h + g) * mean;
    }

    /** How much an error at step {@code t} counts (1 unless {@link #withStepWeights} said otherwise). */
    public double stepWeight(int t) {
        return stepWeights == null ? 1 : stepWeights[t];
    }

    private double[][] checked(double[][] d, String what) {
        if (d.length != residual.length) {
            throw new IllegalArgumentException(what + " distances have " + d.length + " layers, the residual's "
                    + residual.length);
        }
        try {
            return new ReuseErrorModel(d, source).distancesCopy();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    private double[][] checkedForecast(double[][] d) {
        double[][] copy = new double[d.length][];
        for (int l = 0; l < d.length; l++) {
            copy[l] = d[l].clone();
            if (copy[l].length > 0) {
                copy[l][0] = 0; // undefined: no step before step 0; never read
            }
        }
        return checked(copy, "forecast");
    }

    /**
     * The model for a {@code steps}-step run from {@code profile}: the residual series is required, the part
     * series and the forecast series are used where present (carried over to {@code steps} as
     * {@link ReuseErrorModel} does).
     */
    public static CellErrorModel fromProfile(RedundancyProfile profile, int steps) {
        ReuseErrorModel base = ReuseErrorModel.fromProfile(profile, steps);
        double[][] residual = base.distancesCopy();
        return new CellErrorModel(residual, series(profile, ATTENTION, steps, 0).orElse(null),
                series(profile, FEED_FORWARD, steps, 0).orElse(null), forecastKey(profile)
                        .flatMap(k -> series(profile, k, steps, 1)).orElse(null), base.source());
    }

    /** The forecast-error series of the block residual (image stream, conditional branch): {@code profile --forecast-error}. */
    static final SeriesKey FORECAST_KEY = new SeriesKey(SiteKind.BLOCK_RESIDUAL, RESIDUAL.stream(), RESIDUAL.branch(),
            io.ditcache.DistanceMetric.FORECAST_L1_REL);

    /** {@link #FORECAST_KEY}, where the profile has it. */
    static Optional<SeriesKey> forecastKey(RedundancyProfile profile) {
        return profile.series(FORECAST_KEY).map(ProfileSeries::key);
    }

    /** A series' means carried over to {@code steps}, or empty where a cell from column {@code from} is not finite. */
    private static Optional<double[][]> series(RedundancyProfile profile, SeriesKey key, int steps, int from) {
        Optional<ProfileSeries> s = profile.series(key);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        double[][] means = s.get().means();
        int columns = profile.steps() - 1;
        double[][] out = new double[means.length][];
        for (int l = 0; l < means.length; l++) {
            double[] row = means[l].clone();
            for (int c = 0; c < columns; c++) {
                if (c < from) {
                    row[c] = 0;
                } else if (!(row[c] >= 0) || !Double.isFinite(row[c])) {
                    return Optional.empty();
                }
            }
            out[l] = columns == steps - 1 ? row : ReuseErrorModel.carryOver(row, steps);
        }
        return Optional.of(out);
    }

    /** Steps of the run. */
    public int steps() {
        return residual[0].length + 1;
    }

    public int layers() {
        return residual.length;
    }

    public String source() {
        return source;
    }

    /** Whether attention reuse has its series. */
    public boolean hasAttention() {
        return attention != null;
    }

    /** Whether feed-forward reuse has its series. */
    public boolean hasFeedForward() {
        return feedForward != null;
    }

    /** Whether forecasts are charged by a measured forecast error (else as plain reuse). */
    public boolean hasForecast() {
        return measuredForecast;
    }

    /** Cumulative distances {@code [layer][step]}: entry {@code t} is the sum of transitions {@code 0 .. t-1}. */
    double[] cumulative(Chain chain, int layer) {
        double[] d = switch (chain) {
            case BLOCK -> residual[layer];
            case FORECAST -> forecast[layer];
            case ATTENTION -> attention[layer];
            case FEED_FORWARD -> feedForward[layer];
        };
        double[] out = new double[d.length + 1];
        for (int s = 0; s < d.length; s++) {
            out[s + 1] = out[s] + d[s];
        }
        return out;
    }

    /** The series a cell's error is read from. */
    enum Chain {
        BLOCK, FORECAST, ATTENTION, FEED_FORWARD
    }

    /**
     * The estimated error of a plan of one layer, {@code plan[t]} the decision at step {@code t} (step 0 computes),
     * for a block with {@code attentionShare} and {@code feedForwardShare} of its parts; evaluated by following the
     * run as the cache runtime does.
     */
    public double layerError(CellDecision[] plan, int layer, double attentionShare, double feedForwardShare) {
        if (plan.length != steps() || plan[0] != CellDecision.COMPUTE) {
            throw new IllegalArgumentException("a plan of " + steps() + " steps starting with COMPUTE expected, got "
                    + Arrays.toString(plan));
        }
        double[] cumBlock = cumulative(Chain.BLOCK, layer);
        double[] cumForecast = cumulative(Chain.FORECAST, layer);
        int kb = 0;
        int gb = 0;
        int ka = 0;
        int km = 0;
        double error = 0;
        for (int t = 1; t < plan.length; t++) {
            if (!allows(plan[t])) {
                throw new IllegalArgumentException(plan[t] + " at step " + t + ": part reuse is not charged where "
                        + "every reused value is forecast");
            }
            double before = error;
            switch (plan[t]) {
                case COMPUTE -> {
                    gb = t - kb;
                    kb = t;
                    ka = t;
                    km = t;
                }
                case REUSE_BLOCK, FORECAST_BLOCK -> error += blockCharge(forecasts(plan[t]), cumBlock, cumForecast,
                        kb, gb, t);
                case REUSE_ATTENTION -> {
                    error += attentionShare * sum(attention(), layer, ka, t);
                    km = t;
                }
                case REUSE_FEED_FORWARD -> {
                    error += feedForwardShare * sum(feedForward(), layer, km, t);
                    ka = t;
                }
                case REUSE_PARTS -> error += attentionShare * sum(attention(), layer, ka, t)
                        + feedForwardShare * sum(feedForward(), layer, km, t);
            }
            error = before + stepWeight(t) * (error - before);
        }
        return error;
    }

    private double[][] attention() {
        if (attention == null) {
            throw new IllegalArgumentException("the profile (" + source + ") has no " + ATTENTION + " series; "
                    + "attention reuse cannot be charged");
        }
        return attention;
    }

    private double[][] feedForward() {
        if (feedForward == null) {
            throw new IllegalArgumentException("the profile (" + source + ") has no " + FEED_FORWARD + " series; "
                    + "feed-forward reuse cannot be charged");
        }
        return feedForward;
    }

    private static double sum(double[][] d, int layer, int from, int to) {
        return sum(d[layer], from, to);
    }

    private static double sum(double[] d, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += d[i];
        }
        return s;
    }
}
