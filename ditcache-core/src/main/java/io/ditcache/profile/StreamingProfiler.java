package io.ditcache.profile;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceBackend;
import io.ditcache.backend.DistanceBackends;
import io.ditcache.backend.DistanceSums;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The redundancy profiler: an {@link ActivationProbe} that keeps exactly one previous activation per site, and on
 * each call folds the four {@linkplain DistanceMetric#stepToStep() step-to-step metrics} between each sample's
 * previous and current activation (per guidance branch) into a {@link RedundancyProfile}, one pass over all rows of
 * both in a {@link DistanceBackend} (the CPU's {@link FusedDistances}, or a device backend found by
 * {@link DistanceBackends}). The backend keeps the distances until the run ends ({@link #endRun()}), then they are
 * folded into the profile in the order they were taken.
 *
 * <p>Only the {@linkplain #wants wanted} kinds are measured; models do not even compute the others. Asked for the
 * {@linkplain DistanceMetric#FORECAST_L1_REL forecast error}, it keeps one more activation per site (step i-1) and
 * measures, per sample, what a first-order forecast from steps i-1 and i misses at step i+1; that sum is taken on the
 * CPU (activations on a device are copied to host memory for it).
 *
 * <p>The previous activation is kept by reference ({@link HeldActivation}: a tensor handle of the profiler's own that
 * shares the model's storage until the next call of the same site), not copied: the kernel then only reads, which
 * halves its memory traffic. Models must therefore not modify an activation in place after reporting it
 * (ditcache's models never do).
 *
 * <p>Observing a site looks nothing up by hash and allocates nothing per row: the rows' branches and samples are
 * worked out once per distinct row list ({@link RowLayout}), sites are found by index, and the backend gets every
 * row of a site in one {@link DistanceAccumulator#addRows} call.
 *
 * <p>Runs are separated by {@link #endRun()} (the sampler calls it). A site observed at step i+1 without an
 * observation at step i (a cached block, for example) starts afresh there. Not thread-safe.
 */
public final class StreamingProfiler implements ActivationProbe, AutoCloseable {
    private static final DistanceMetric[] METRICS = DistanceMetric.stepToStep().toArray(DistanceMetric[]::new);
    /** Where a site's forecast-error key sits in its branch's key array, after the step-to-step metrics. */
    private static final int FORECAST = METRICS.length;
    private static final int STREAMS = TokenStream.values().length;
    private final RedundancyProfile profile;
    private final Set<SiteKind> kinds;
    private final boolean forecastError;
    /** Per site, indexed {@code [kind * streams + stream][layer]}. */
    private final SiteState[][] sites;
    /** The cells of the comparisons queued in {@link #distances}, in the order queued. */
    private final PendingCells pending = new PendingCells();
    private RowLayout layout;
    private long[] aOffsets = new long[16];
    private long[] bOffsets = new long[16];
    private DistanceBackend backend;
    private DistanceAccumulator distances;
    /** The most samples of one guidance branch seen in one call of this run: the run's sample count. */
    private int runSamples;
    /** The step of the last observation: a new step submits the previous step's comparisons in one batch. */
    private int lastStep = -1;
    /** Comparisons of residuals taken from blocks' outputs and inputs, none stored (for tests). */
    long residualsInPlace;

    /** One site's retained activations: step i (and step i-1 when measuring the forecast error). */
    private static final class SiteState {
        final int layer;
        /** {@code [branch][metric]}, the forecast error's key last. */
        final SeriesKey[][] keys;
        HeldActivation previous = new HeldActivation();
        HeldActivation older = new HeldActivation();
        /** A residual site's block input of the previous call, held beside its output ({@link #observeResidual}). */
        HeldActivation previousInput = new HeldActivation();

        SiteState(Site site) {
            layer = site.layer();
            keys = new SeriesKey[Branch.values().length][METRICS.length + 1];
            for (Branch b : Branch.values()) {
                for (int m = 0; m < METRICS.length; m++) {
                    keys[b.ordinal()][m] = new SeriesKey(site.kind(), site.stream(), b, METRICS[m]);
                }
                keys[b.ordinal()][FORECAST] = new SeriesKey(site.kind(), site.stream(), b,
                        DistanceMetric.FORECAST_L1_REL);
            }
        }

        /** The previous call becomes the older one; the old older one's handle is reused for the next call. */
        void age() {
            HeldActivation reused = older;
            reused.release();
            older = previous;
            previous = reused;
        }
    }

    /** Profiles every site kind into {@code profile}. */
    public StreamingProfiler(RedundancyProfile profile) {
        this(profile, EnumSet.allOf(SiteKind.class));
    }

    /** Profiles the given kinds into {@code profile}. */
    public StreamingProfiler(RedundancyProfile profile, Set<SiteKind> kinds) {
        this(profile, kinds, false);
    }

    /**
     * Profiles the given kinds into {@code profile}, with the {@linkplain DistanceMetric#FORECAST_L1_REL forecast
     * error} too when {@code forecastError} (one more retained activation per site).
     *
     * @throws IllegalArgumentException when {@code kinds} is empty
     */
    public StreamingProfiler(RedundancyProfile profile, Set<SiteKind> kinds, boolean forecastError) {
        this.profile = Objects.requireNonNull(profile, "profile");
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("kinds is empty, expected at least one of "
                    + EnumSet.allOf(SiteKind.class));
        }
        this.kinds = EnumSet.copyOf(kinds);
        this.forecastError = forecastError;
        this.sites = new SiteState[SiteKind.values().length * STREAMS][profile.layers()];
    }

    public RedundancyProfile profile() {
        return profile;
    }

    /** The kinds this profiler measures. */
    public Set<SiteKind> kinds() {
        return java.util.Collections.unmodifiableSet(kinds);
    }

    /** Whether this profiler measures the forecast error. */
    public boolean measuresForecastError() {
        return forecastError;
    }

    @Override
    public boolean wants(Site site) {
        return kinds.contains(site.kind());
    }

    @Override
    public void observe(Step step, Site site, Tensor activation) {
        observeStored(begin(step, site, activation), step, site, activation);
    }

    /** {@link #observe} after {@link #begin}: compares with the held call and holds this one. */
    private void observeStored(RowLayout rows, Step step, Site site, Tensor activation) {
        DistanceAccumulator acc = accumulatorFor(activation);
        Tensor c = backend.reads(activation) ? activation : activation.to(ScalarType.Float).contiguous();
        long perRow = c.numel() / activation.size(0);
        SiteState s = state(site);
        HeldActivation prev = s.previous;
        HeldActivation prevIn = s.previousInput;
        if (prev.holds(step.index() - 1, perRow) && (!prevIn.held || prevIn.holds(step.index() - 1, perRow))) {
            // a residual held as output and input (observeResidual) is compared as the stored residual
            Tensor earlier = prevIn.held ? prev.tensor.sub(prevIn.tensor) : prev.tensor;
            RowLayout.Pairs pairs = pairOffsets(rows, prev, perRow);
            int n = pairs.count();
            acc.addRows(earlier, aOffsets, c, bOffsets, n, perRow);
            HeldActivation older = s.older;
            boolean forecast = forecastError && older.holds(step.index() - 2, perRow);
            ForecastInputs inputs = forecast ? new ForecastInputs(older.tensor, earlier, c) : null;
            for (int k = 0; k < n; k++) {
                int p = forecast ? older.rows.rowOf(pairs.branch()[k], pairs.sample()[k]) : -1;
                double miss = p < 0 ? Double.NaN : inputs.sumAbsMiss(p * perRow, aOffsets[k], bOffsets[k], perRow);
                pending.add(s.keys[pairs.branch()[k]], s.layer, step.index() - 1, p >= 0, miss);
            }
        }
        if (forecastError) {
            s.age();
        } else {
            s.previous.release();
        }
        prevIn.release();
        s.previous.hold(c, perRow, step.index(), rows);
    }

    /**
     * Observes a block's residual without storing it where the CPU backend sums in the call (the default) and
     * both tensors are float32, contiguous and of one shape: it holds the output and the input instead, and takes
     * the residuals' distances from all four (the bits the stored residuals give). Otherwise, and when measuring
     * the forecast error, it subtracts and observes the residual; once a site holds a stored residual, it stays
     * stored until a gap.
     */
    @Override
    public void observeResidual(Step step, Site site, Tensor output, Tensor input) {
        RowLayout rows = begin(step, site, output);
        DistanceAccumulator acc = accumulatorFor(output);
        SiteState s = state(site);
        HeldActivation prev = s.previous;
        HeldActivation prevIn = s.previousInput;
        long perRow = output.numel() / output.size(0);
        if (forecastError || !(acc instanceof CpuDistanceBackend.Accumulator cpu)
                || !cpu.takesResiduals(output, input, perRow)
                || (prev.held && !prevIn.holds(prev.step, prev.perRow))) {
            observeStored(rows, step, site, output.sub(input));
            return;
        }
        if (prev.holds(step.index() - 1, perRow) && prevIn.holds(step.index() - 1, perRow)) {
            RowLayout.Pairs pairs = pairOffsets(rows, prev, perRow);
            int n = pairs.count();
            cpu.addResidualRows(prev.tensor, prevIn.tensor, aOffsets, output, input, bOffsets, n, perRow);
            residualsInPlace++;
            for (int k = 0; k < n; k++) {
                pending.add(s.keys[pairs.branch()[k]], s.layer, step.index() - 1, false, Double.NaN);
            }
        }
        prev.release();
        prevIn.release();
        prev.hold(output, perRow, step.index(), rows);
        prevIn.hold(input, perRow, step.index(), rows);
    }

    /**
     * Checks a call, submits the previous step's comparisons when a new step begins, and returns the call's row
     * layout (counting its samples).
     */
    private RowLayout begin(Step step, Site site, Tensor activation) {
        long batch = activation.size(0);
        if (batch != step.rows().size()) {
            throw new IllegalArgumentException("activation at " + site + " has batch " + batch + " but step "
                    + step.index() + " has " + step.rows().size() + " rows");
        }
        if (step.count() != profile.steps()) {
            throw new IllegalArgumentException("step count " + step.count() + " differs from the profile's "
                    + profile.steps());
        }
        if (site.layer() >= profile.layers()) {
            throw new IndexOutOfBoundsException("site " + site + ": layer " + site.layer() + " not in [0, "
                    + profile.layers() + ") of the profile");
        }
        if (step.index() != lastStep) {
            if (distances != null) {
                distances.submit();
            }
            lastStep = step.index();
        }
        RowLayout rows = layoutOf(step);
        runSamples = Math.max(runSamples, rows.samples);
        return rows;
    }

    /** The rows of this call paired with the held call's, their element offsets written to the offset arrays. */
    private RowLayout.Pairs pairOffsets(RowLayout rows, HeldActivation prev, long perRow) {
        RowLayout.Pairs pairs = rows.pairsWith(prev.rows);
        int n = pairs.count();
        if (aOffsets.length < n) {
            aOffsets = new long[n];
            bOffsets = new long[n];
        }
        for (int k = 0; k < n; k++) {
            aOffsets[k] = pairs.earlierRows()[k] * perRow;
            bOffsets[k] = pairs.rows()[k] * perRow;
        }
        return pairs;
    }

    /** The three activations of a forecast, as float32 in host memory (the model's own tensors on the CPU). */
    private static final class ForecastInputs {
        /** The host tensors are held here so that their memory outlives the pointers (a copy has no other owner). */
        private final Tensor[] held = new Tensor[3];
        private final FloatPointer p;
        private final FloatPointer a;
        private final FloatPointer b;

        ForecastInputs(Tensor older, Tensor previous, Tensor current) {
            held[0] = host(older);
            held[1] = host(previous);
            held[2] = host(current);
            p = held[0].data_ptr_float();
            a = held[1].data_ptr_float();
            b = held[2].data_ptr_float();
        }

        private static Tensor host(Tensor t) {
            return t.to(ScalarType.Float).contiguous().cpu();
        }

        double sumAbsMiss(long pOffset, long aOffset, long bOffset, long length) {
            return ForecastDistances.sumAbsMiss(p, pOffset, a, aOffset, b, bOffset, length);
        }
    }

    /** The layout of this call's rows: the last one when the rows are the same (every call of a run, usually). */
    private RowLayout layoutOf(Step step) {
        if (layout == null || !layout.rows.equals(step.rows())) {
            layout = new RowLayout(step.rows());
        }
        return layout;
    }

    private SiteState state(Site site) {
        SiteState[] byLayer = sites[site.kind().ordinal() * STREAMS + site.stream().ordinal()];
        SiteState s = byLayer[site.layer()];
        if (s == null) {
            s = new SiteState(site);
            byLayer[site.layer()] = s;
        }
        return s;
    }

    /** The accumulator of the backend for this activation's device (switching backends keeps the order). */
    private DistanceAccumulator accumulatorFor(Tensor activation) {
        if (backend == null || !backend.accepts(activation)) {
            flush();
            if (distances != null) {
                distances.close();
            }
            backend = DistanceBackends.forActivation(activation);
            distances = null;
        }
        if (distances == null) {
            distances = backend.newAccumulator();
        }
        return distances;
    }

    /** Folds every queued comparison's distances into the profile, in the order they were queued. */
    private void flush() {
        if (distances == null || pending.size == 0) {
            return;
        }
        List<DistanceSums> sums = distances.drain();
        if (sums.size() != pending.size) {
            throw new IllegalStateException("distance backend " + backend.name() + " returned " + sums.size()
                    + " results for " + pending.size + " comparisons");
        }
        for (int i = 0; i < sums.size(); i++) {
            SeriesKey[] keys = pending.keys[i];
            int layer = pending.layer[i];
            int step = pending.step[i];
            DistanceSums s = sums.get(i);
            for (int m = 0; m < METRICS.length; m++) {
                profile.add(keys[m], layer, step, s.value(METRICS[m]));
            }
            if (pending.hasForecast[i]) {
                double miss = pending.forecast[i];
                profile.add(keys[FORECAST], layer, step, s.nonFinite() || !Double.isFinite(miss) ? Double.NaN
                        : DistanceMetric.FORECAST_L1_REL.of(s.n(), miss, s.sumAbsA(), s.dot(), s.sumSqA(),
                                s.sumSqB()));
            }
        }
        pending.clear();
    }

    /** The name of the distance backend in use, or empty before the first comparison. */
    public java.util.Optional<String> backendName() {
        return java.util.Optional.ofNullable(backend).map(DistanceBackend::name);
    }

    /**
     * Ends a run: reads the run's distances back from the backend into the profile, drops the previous
     * activations and counts the run with the samples it drew side by side.
     */
    @Override
    public void endRun() {
        close();
        profile.countRun(runSamples);
        runSamples = 0;
    }

    /**
     * Reads back the distances still queued into the profile and releases the activations still held and the
     * backend's accumulator (the next observation starts a new one).
     */
    @Override
    public void close() {
        flush();
        if (distances != null) {
            distances.close();
            distances = null;
        }
        for (SiteState[] byLayer : sites) {
            for (SiteState s : byLayer) {
                if (s != null) {
                    s.previous.free();
                    s.older.free();
                    s.previousInput.free();
                }
            }
        }
        lastStep = -1;
    }
}
