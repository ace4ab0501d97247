package io.ditcache.report;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The files a {@link ProfileReport} wrote.
 *
 * @param html     the {@code report.html} page
 * @param curves   the per-layer curve figures, one per stream and branch
 * @param heatmaps the heatmaps, one per series
 */
public record ReportFiles(Path html, List<Path> curves, List<Path> heatmaps) {
    public ReportFiles {
        Objects.requireNonNull(html, "html");
        curves = List.copyOf(curves);
        heatmaps = List.copyOf(heatmaps);
    }

    /** Every written file: the page, then the curves, then the heatmaps. */
    public List<Path> all() {
        List<Path> out = new ArrayList<>();
        out.add(html);
        out.addAll(curves);
        out.addAll(heatmaps);
        return List.copyOf(out);
    }
}
