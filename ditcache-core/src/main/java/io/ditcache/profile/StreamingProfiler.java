package io.ditcache.profile;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceBackend;
import io.ditcache.backend.DistanceBackends;
import io.ditcache.backend.DistanceSums;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The redundancy profiler: an {@link ActivationProbe} that keeps exactly one previous activation per site, and on
 * each call folds the four {@link DistanceMetric}s between each sample's previous and current activation (per
 * guidance branch) into a {@link RedundancyProfile}, one pass over both in a {@link DistanceBackend} (the CPU's
 * {@link FusedDistances}, or a device backend found by {@link DistanceBackends}). The backend keeps the distances
 * until the run ends ({@link #endRun()}), then they are folded into the profile in the order they were taken.
 *
 * <p>The previous activation is kept by reference (the model's own tensor, retained until the next call of the
 * same site), not copied: the kernel then only reads, which halves its memory traffic. Models must therefore not
 * modify an activation in place after reporting it (ditcache's models never do).
 *
 * <p>Runs are separated by {@link #endRun()} (the sampler calls it). A site observed at step i+1 without an
 * observation at step i (a cached block, for example) starts afresh there. Not thread-safe.
 */
public final class StreamingProfiler implements ActivationProbe, AutoCloseable {
    private static final DistanceMetric[] METRICS = DistanceMetric.values();
    private final RedundancyProfile profile;
    private final Set<SiteKind> kinds;
    private final Map<Site, Call> previous = new HashMap<>();
    private final Map<Site, SeriesKey[][]> keys = new HashMap<>();
    /** The cells of the comparisons queued in {@link #distances}, in the order queued. */
    private final List<Cell> pending = new ArrayList<>();
    private DistanceBackend backend;
    private DistanceAccumulator distances;
    /** The most samples of one guidance branch seen in one call of this run: the run's sample count. */
    private int runSamples;
    /** The step of the last observation: a new step submits the previous step's comparisons in one batch. */
    private int lastStep = -1;

    /** Where one queued comparison's distances go. */
    private record Cell(SeriesKey[] keys, int layer, int step) {
    }

    /** One call's activation of a site: the retained tensor, its rows, and which sample of which branch each is. */
    private record Call(Tensor tensor, long perRow, int step, Map<Long, Integer> rowOf) {
        static long sample(Branch branch, int sample) {
            return ((long) branch.ordinal() << 32) | sample;
        }
    }

    /** Profiles every site kind into {@code profile}. */
    public StreamingProfiler(RedundancyProfile profile) {
        this(profile, EnumSet.allOf(SiteKind.class));
    }

    /** Profiles the given kinds into {@code profile}. */
    public StreamingProfiler(RedundancyProfile profile, Set<SiteKind> kinds) {
        this.profile = Objects.requireNonNull(profile, "profile");
        this.kinds = EnumSet.copyOf(kinds);
    }

    public RedundancyProfile profile() {
        return profile;
    }

    @Override
    public boolean wants(Site site) {
        return kinds.contains(site.kind());
    }

    @Override
    public void observe(Step step, Site site, Tensor activation) {
        long batch = activation.size(0);
        if (batch != step.rows().size()) {
            throw new IllegalArgumentException("activation at " + site + " has batch " + batch + " but step "
                    + step.index() + " has " + step.rows().size() + " rows");
        }
        if (step.count() != profile.steps()) {
            throw new IllegalArgumentException("step count " + step.count() + " differs from the profile's "
                    + profile.steps());
        }
        if (step.index() != lastStep) {
            if (distances != null) {
                distances.submit();
            }
            lastStep = step.index();
        }
        DistanceAccumulator acc = accumulatorFor(activation);
        Tensor c = backend.reads(activation) ? new Tensor(activation) : activation.to(ScalarType.Float).contiguous();
        long perRow = c.numel() / batch;
        Map<Long, Integer> rowOf = new HashMap<>();
        int[] seen = new int[Branch.values().length];
        for (int row = 0; row < batch; row++) {
            Branch branch = step.rows().get(row);
            rowOf.put(Call.sample(branch, seen[branch.ordinal()]++), row);
        }
        for (int n : seen) {
            runSamples = Math.max(runSamples, n);
        }
        Call prev = previous.get(site);
        if (prev != null && prev.step == step.index() - 1 && prev.perRow == perRow) {
            SeriesKey[][] siteKeys = keys.computeIfAbsent(site, StreamingProfiler::seriesKeys);
            for (Map.Entry<Long, Integer> e : rowOf.entrySet()) {
                Integer before = prev.rowOf.get(e.getKey());
                if (before == null) {
                    continue;
                }
                acc.add(prev.tensor, before * perRow, c, e.getValue() * perRow, perRow);
                pending.add(new Cell(siteKeys[(int) (e.getKey() >>> 32)], site.layer(), step.index() - 1));
            }
        }
        c.retainReference();
        Call replaced = previous.put(site, new Call(c, perRow, step.index(), rowOf));
        if (replaced != null) {
            replaced.tensor.releaseReference();
        }
    }

    /** The accumulator of the backend for this activation's device (switching backends keeps the order). */
    private DistanceAccumulator accumulatorFor(Tensor activation) {
        if (backend == null || !backend.accepts(activation)) {
            flush();
            if (distances != null) {
                distances.close();
            }
            backend = DistanceBackends.forActivation(activation);
            distances = backend.newAccumulator();
        }
        return distances;
    }

    /** Folds every queued comparison's distances into the profile, in the order they were queued. */
    private void flush() {
        if (distances == null || pending.isEmpty()) {
            return;
        }
        List<DistanceSums> sums = distances.drain();
        if (sums.size() != pending.size()) {
            throw new IllegalStateException("distance backend " + backend.name() + " returned " + sums.size()
                    + " results for " + pending.size() + " comparisons");
        }
        for (int i = 0; i < sums.size(); i++) {
            Cell cell = pending.get(i);
            DistanceSums s = sums.get(i);
            for (int m = 0; m < METRICS.length; m++) {
                profile.add(cell.keys[m], cell.layer, cell.step, s.value(METRICS[m]));
            }
        }
        pending.clear();
    }

    /** The name of the distance backend in use, or empty before the first comparison. */
    public java.util.Optional<String> backendName() {
        return java.util.Optional.ofNullable(backend).map(DistanceBackend::name);
    }

    private static SeriesKey[][] seriesKeys(Site site) {
        SeriesKey[][] out = new SeriesKey[Branch.values().length][METRICS.length];
        for (Branch b : Branch.values()) {
            for (int m = 0; m < METRICS.length; m++) {
                out[b.ordinal()][m] = new SeriesKey(site.kind(), site.stream(), b, METRICS[m]);
            }
        }
        return out;
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

    /** Reads back the distances still queued into the profile and releases the activations still held. */
    @Override
    public void close() {
        flush();
        previous.values().forEach(call -> call.tensor.releaseReference());
        previous.clear();
        lastStep = -1;
    }
}
