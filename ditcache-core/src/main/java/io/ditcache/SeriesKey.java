package io.ditcache;

import java.util.Comparator;
import java.util.Objects;

/** Identifies one matrix of a {@link RedundancyProfile}: which kind, stream, branch and metric. */
public record SeriesKey(SiteKind kind, TokenStream stream, Branch branch, DistanceMetric metric)
        implements Comparable<SeriesKey> {

    private static final Comparator<SeriesKey> ORDER = Comparator.comparing(SeriesKey::kind)
            .thenComparing(SeriesKey::stream)
            .thenComparing(SeriesKey::branch)
            .thenComparing(SeriesKey::metric);

    public SeriesKey {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(branch, "branch");
        Objects.requireNonNull(metric, "metric");
    }

    /** Image stream, conditional branch. */
    public static SeriesKey of(SiteKind kind, DistanceMetric metric) {
        return new SeriesKey(kind, TokenStream.IMAGE, Branch.COND, metric);
    }

    @Override
    public int compareTo(SeriesKey o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        return kind + "/" + stream + "/" + branch + "/" + metric;
    }
}
