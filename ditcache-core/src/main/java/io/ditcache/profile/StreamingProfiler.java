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
import java.nio.FloatBuffer;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The redundancy profiler: an {@link ActivationProbe} that keeps exactly one previous activation per site,
 * sample and guidance branch, and on each call folds the four {@link DistanceMetric}s between the previous and
 * the current activation into a {@link RedundancyProfile} (one pass per sample, {@link FusedDistances}).
 *
 * <p>Runs are separated by {@link #endRun()} (the sampler calls it). A site observed at step i+1 without an
 * observation at step i (a cached block, for example) starts afresh there.
 */
public final class StreamingProfiler implements ActivationProbe {
    private static final List<DistanceMetric> METRICS = List.of(DistanceMetric.values());
    private final RedundancyProfile profile;
    private final Set<SiteKind> kinds;
    private final Map<Key, Previous> previous = new HashMap<>();

    private record Key(Site site, Branch branch, int sample) {
    }

    private static final class Previous {
        FloatBuffer values;
        int step;
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
                ? activation : activation.to(ScalarType.Float).contiguous();
        int perRow = Math.toIntExact(c.numel() / batch);
        FloatBuffer current = c.data_ptr_float().capacity(c.numel()).asBuffer();
        for (int row = 0; row < batch; row++) {
            Branch branch = step.rows().get(row);
            Key key = new Key(site, branch, step.sampleOf(row));
            Previous prev = previous.get(key);
            int offset = row * perRow;
            if (prev != null && prev.step == step.index() - 1 && prev.values.capacity() == perRow) {
                FloatBuffer cur = current.duplicate().position(offset).limit(offset + perRow).slice();
                DistanceSums sums = FusedDistances.compute(prev.values, cur, 0, perRow, true);
                for (DistanceMetric m : METRICS) {
                    profile.add(new SeriesKey(site.kind(), site.stream(), branch, m), site.layer(),
                            step.index() - 1, sums.value(m));
                }
            } else {
                if (prev == null || prev.values.capacity() != perRow) {
                    prev = new Previous();
                    prev.values = ByteBuffer.allocateDirect(perRow * Float.BYTES).order(ByteOrder.nativeOrder())
                            .asFloatBuffer();
                    previous.put(key, prev);
                }
                prev.values.put(0, current, offset, perRow);
            }
            prev.step = step.index();
        }
    }

    @Override
    public void endRun() {
        previous.clear();
        profile.countRun();
    }
}
