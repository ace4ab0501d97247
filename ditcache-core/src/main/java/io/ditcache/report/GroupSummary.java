package io.ditcache.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.ModelLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A profile's blocks by group (FLUX: double then single; SD3: joint; DiT, PixArt: plain), with each group's mean
 * step-to-step distance of K, V and A: how redundancy differs between the kinds of block of one model. The layout
 * comes from the model's recorded class and config ({@link ModelLoader#describe}); a model no family on the class
 * path describes is one plain group.
 */
public final class GroupSummary {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GroupSummary() {
    }

    /**
     * One run of consecutive blocks of one group.
     *
     * @param group the group's name
     * @param first first block
     * @param last  last block (inclusive)
     */
    public record Range(String group, int first, int last) {
        @Override
        public String toString() {
            return (first == last ? "block " + first : "blocks " + first + "-" + last) + " " + group;
        }
    }

    /** The block layout the profile's model identity describes, if a family on the class path knows it. */
    public static Optional<BlockLayout> layout(RedundancyProfile p) {
        return layout(p.model());
    }

    /** The block layout a model identity ({@code class_name}, {@code config}) describes, if known. */
    public static Optional<BlockLayout> layout(Map<String, Object> identity) {
        Object config = identity.get("config");
        if (!(config instanceof Map<?, ?> m)) {
            return Optional.empty();
        }
        try {
            DiffusersConfig c = DiffusersConfig.parse(JSON.writeValueAsBytes(m), "model " + identity.get("name"));
            return Optional.of(ModelLoader.describe(c).layout());
        } catch (Exception e) {
            return Optional.empty(); // a model no family here describes: shown as one group
        }
    }

    /** Runs of consecutive blocks of one group, in execution order; one plain run without a layout. */
    public static List<Range> ranges(Optional<BlockLayout> layout, int layers) {
        List<Range> out = new ArrayList<>();
        if (layout.isEmpty() || layout.get().size() != layers) {
            out.add(new Range("plain", 0, layers - 1));
            return out;
        }
        List<Block> blocks = layout.get().blocks();
        int from = 0;
        for (int i = 1; i <= blocks.size(); i++) {
            if (i == blocks.size() || !blocks.get(i).group().equals(blocks.get(from).group())) {
                out.add(new Range(blocks.get(from).group().name(), from, i - 1));
                from = i;
            }
        }
        return out;
    }

    /** The mean over the range's blocks and every step of {@code kind}'s series ({@link StudySummary#key}). */
    public static double mean(RedundancyProfile p, SiteKind kind, Range r) {
        Optional<ProfileSeries> s = p.series(StudySummary.key(kind));
        if (s.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        int n = 0;
        for (int l = r.first(); l <= r.last(); l++) {
            for (int t = 0; t < s.get().steps(); t++) {
                double v = s.get().mean(l, t);
                if (Double.isFinite(v)) {
                    sum += v;
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** An HTML table: one row per block group of {@code p}, mean K, V and A distance. */
    static void table(StringBuilder h, String label, RedundancyProfile p) {
        table(h, List.of(label), List.of(p));
    }

    /** An HTML table: one row per block group of each model's profile, mean K, V and A distance. */
    static void table(StringBuilder h, List<String> labels, List<RedundancyProfile> profiles) {
        h.append("<table>\n<tr><th>model</th><th>blocks</th><th>group</th><th>K</th><th>V</th><th>A</th></tr>\n");
        for (int m = 0; m < labels.size(); m++) {
            rows(h, labels.get(m), profiles.get(m));
        }
        h.append("</table>\n");
    }

    private static void rows(StringBuilder h, String label, RedundancyProfile p) {
        for (Range r : ranges(layout(p), p.layers())) {
            h.append("<tr><td>").append(ReportPage.esc(label)).append("</td><td>")
                    .append(r.first() == r.last() ? r.first() : r.first() + "-" + r.last()).append("</td><td>")
                    .append(ReportPage.esc(r.group())).append("</td>");
            for (SiteKind k : StudySummary.KINDS) {
                double v = mean(p, k, r);
                h.append("<td class=\"n\">").append(Double.isFinite(v) ? String.format(Locale.ROOT, "%.4g", v) : "")
                        .append("</td>");
            }
            h.append("</tr>\n");
        }
    }
}
