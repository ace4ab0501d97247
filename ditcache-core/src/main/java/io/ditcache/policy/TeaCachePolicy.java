package io.ditcache.policy;

import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SignalRequest;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TeaCache: each row accumulates the rescaled change {@code poly(x)} of block 0's modulated input
 * ({@link io.ditcache.CacheSignal#MODULATED_INPUT_CHANGE} at block 0, {@code x}); while the accumulated value
 * stays below {@code threshold} the whole step is skipped (every block, block 0 included,
 * {@link Decision#REUSE_BLOCK}); otherwise the step computes and the accumulator restarts at 0. Step 0 and the last step always compute, and so does a
 * step at which the row measured nothing or a non-finite value.
 *
 * <p>The polynomial maps the input change to the model-output change. {@link #fit} obtains it from a profile;
 * the mapping is per step, independent of the step count, so it applies unchanged to runs of another length
 * (outside the fitted range of {@code x} it extrapolates). A negative {@code poly(x)} counts as 0: a change
 * cannot be negative, and this keeps threshold 0 computing everything.
 */
public final class TeaCachePolicy implements CachePolicy {
    /** The name {@link Policies} knows this policy by. */
    public static final String NAME = "teacache";
    /** Polynomial degree {@link Policies} fits when given a profile and no degree (TeaCache's choice). */
    public static final int DEFAULT_DEGREE = 4;
    /** Largest degree {@link #fit} accepts. */
    public static final int MAX_DEGREE = 8;

    /** What the policy measures: block 0's modulated-input change. */
    private static final SignalRequest SIGNAL = SignalRequest.modulatedInput(0);
    private static final Logger LOG = LoggerFactory.getLogger(TeaCachePolicy.class);

    private final double threshold;
    private final double[] coefficients;
    private final Map<Row, RowState> rows = new HashMap<>();

    private static final class RowState {
        int signalStep = -1;
        double signal;
        int decidedStep = -1;
        boolean reuse;
        double accumulated;
    }

    /**
     * @param threshold    skip while the accumulated rescaled change is below this, a finite number {@code >= 0}
     *                     (no default in {@link Policies}); 0 computes everything
     * @param coefficients the rescaling polynomial in ascending powers,
     *                     {@code poly(x) = c[0] + c[1] x + ... + c[d] x^d}: at least one, all finite (no default
     *                     without a profile; with one, {@link #fit} of degree {@value #DEFAULT_DEGREE})
     */
    public TeaCachePolicy(double threshold, double[] coefficients) {
        this.threshold = ParameterChecks.nonNegative(NAME, "threshold", threshold);
        this.coefficients = ParameterChecks.finiteValues(NAME, "coefficients", coefficients, false);
    }

    /** A policy with the polynomial {@link #fit} from {@code profile}. */
    public static TeaCachePolicy fitted(RedundancyProfile profile, int degree, double threshold) {
        return new TeaCachePolicy(threshold, fit(profile, degree));
    }

    /**
     * Least-squares fit of {@code y = poly(x)} over the profile's steps (columns), in ascending powers: {@code x}
     * = {@link SiteKind#MODULATED_INPUT} / {@link DistanceMetric#L1_REL} at layer 0, {@code y} =
     * {@link SiteKind#BLOCK_OUT} / {@link DistanceMetric#L1_REL} at the last layer (the model-output change
     * proxy), image tokens of the {@link Branch#COND} branch; steps where either is missing or non-finite are left
     * out. The same coefficients serve both branches.
     *
     * @param profile a profile with both series
     * @param degree  polynomial degree, in {@code [1, }{@value #MAX_DEGREE}{@code ]}, below the number of usable
     *                steps
     */
    public static double[] fit(RedundancyProfile profile, int degree) {
        ParameterChecks.inRange(NAME, "degree", degree, 1, MAX_DEGREE);
        ProfileSeries xs = series(profile, SiteKind.MODULATED_INPUT);
        ProfileSeries ys = series(profile, SiteKind.BLOCK_OUT);
        int columns = profile.steps() - 1;
        double[] x = new double[columns];
        double[] y = new double[columns];
        int n = 0;
        for (int s = 0; s < columns; s++) {
            double xi = xs.mean(0, s);
            double yi = ys.mean(profile.layers() - 1, s);
            if (Double.isFinite(xi) && Double.isFinite(yi)) {
                x[n] = xi;
                y[n] = yi;
                n++;
            }
        }
        x = Arrays.copyOf(x, n);
        y = Arrays.copyOf(y, n);
        long distinct = Arrays.stream(x).distinct().count();
        if (distinct <= degree) {
            throw new IllegalArgumentException(NAME + ": a degree-" + degree + " fit needs more than " + degree
                    + " steps with distinct finite modulated-input changes, the profile has " + distinct + " (of "
                    + columns + " columns)");
        }
        double[] c = PolynomialFit.leastSquares(x, y, degree);
        if (LOG.isDebugEnabled()) {
            double ss = 0;
            for (int i = 0; i < n; i++) {
                double r = y[i] - PolynomialFit.evaluate(c, x[i]);
                ss += r * r;
            }
            LOG.debug("teacache fit, degree {} over {} steps: coefficients {}, rms residual {}", degree, n,
                    Arrays.toString(c), Math.sqrt(ss / n));
        }
        return c;
    }

    private static ProfileSeries series(RedundancyProfile profile, SiteKind kind) {
        SeriesKey key = new SeriesKey(kind, TokenStream.IMAGE, Branch.COND, DistanceMetric.L1_REL);
        return profile.series(key).orElseThrow(() -> new IllegalArgumentException(NAME
                + ": fitting needs the profile series " + key + ", which the profile does not have"));
    }

    /** The rescaling polynomial in ascending powers (a copy). */
    public double[] coefficients() {
        return coefficients.clone();
    }

    public double threshold() {
        return threshold;
    }

    /** {@code poly(x)}, without the clamp at 0. */
    public double rescale(double x) {
        return PolynomialFit.evaluate(coefficients, x);
    }

    @Override
    public Set<SignalRequest> signals() {
        return Set.of(SIGNAL);
    }

    @Override
    public void observe(SignalRequest signal, Query query, double value) {
        if (signal.equals(SIGNAL)) {
            RowState s = rows.computeIfAbsent(Row.of(query), r -> new RowState());
            s.signalStep = query.step();
            s.signal = value;
        }
    }

    @Override
    public Decision decide(Query query) {
        RowState s = rows.computeIfAbsent(Row.of(query), r -> new RowState());
        int step = query.step();
        if (s.decidedStep != step) {
            s.decidedStep = step;
            s.reuse = false;
            boolean measured = s.signalStep == step && Double.isFinite(s.signal);
            if (step > 0 && step < query.steps() - 1 && measured) {
                s.accumulated += Math.max(0.0, rescale(s.signal));
                s.reuse = s.accumulated < threshold;
            }
            if (!s.reuse) {
                s.accumulated = 0;
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
        return Policies.description(NAME, "threshold", threshold, "coefficients", Policies.list(coefficients));
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
