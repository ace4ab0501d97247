package io.ditcache.profile;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * guidance branch) into a {@link RedundancyProfile}, one pass over both with {@link FusedDistances}.
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

    /** One call's activation of a site: the retained tensor, its rows, and which sample of which branch each is. */
    private record Call(Tensor tensor, ByteBuffer values, int perRow, int step, Map<Long, Integer> rowOf) {
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
        Tensor c = activation.scalar_type().intern() == ScalarType.Float && activation.is_contiguous()
                ? new Tensor(activation) : activation.to(ScalarType.Float).contiguous();
        int perRow = Math.toIntExact(c.numel() / batch);
        ByteBuffer values = c.data_ptr_float().capacity(c.numel()).asByteBuffer().order(ByteOrder.nativeOrder());
        Map<Long, Integer> rowOf = new HashMap<>();
        int[] seen = new int[Branch.values().length];
        for (int row = 0; row < batch; row++) {
            Branch branch = step.rows().get(row);
            rowOf.put(Call.sample(branch, seen[branch.ordinal()]++), row);
        }
        Call prev = previous.get(site);
        if (prev != null && prev.step == step.index() - 1 && prev.perRow == perRow) {
            SeriesKey[][] siteKeys = keys.computeIfAbsent(site, StreamingProfiler::seriesKeys);
            for (Map.Entry<Long, Integer> e : rowOf.entrySet()) {
                Integer before = prev.rowOf.get(e.getKey());
                if (before == null) {
                    continue;
                }
                DistanceSums sums = FusedDistances.compute(prev.values, 4 * before * perRow, values,
                        4 * e.getValue() * perRow, perRow);
                SeriesKey[] k = siteKeys[(int) (e.getKey() >>> 32)];
                for (int m = 0; m < METRICS.length; m++) {
                    profile.add(k[m], site.layer(), step.index() - 1, sums.value(METRICS[m]));
                }
            }
        }
        c.retainReference();
        Call replaced = previous.put(site, new Call(c, values, perRow, step.index(), rowOf));
        if (replaced != null) {
            replaced.tensor.releaseReference();
        }
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

    /** Ends a run: drops the previous activations and counts the run. */
    @Override
    public void endRun() {
        close();
        profile.countRun();
    }

    /** Releases the activations still held (the profile is kept). */
    @Override
    public void close() {
        previous.values().forEach(call -> call.tensor.releaseReference());
        previous.clear();
    }
}
