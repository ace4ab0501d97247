package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.TokenStream;
import io.ditcache.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A profile's report folder: the per-layer curves ({@link LayerCurves}), one heatmap per series
 * ({@link Heatmap}) and {@value #PAGE}, a self-contained page that ties them together with the settings and
 * the {@link SummaryTable}. Every file is written atomically; files of earlier reports with other names are
 * left alone.
 */
public final class ProfileReport {
    /** The page's file name. */
    public static final String PAGE = "report.html";

    private static final Logger LOG = LoggerFactory.getLogger(ProfileReport.class);
    /** Heatmaps on the page: the paper's metric first, then image before text, cond before uncond, by kind. */
    private static final Comparator<ProfileSeries> PAGE_ORDER = Comparator
            .comparing((ProfileSeries s) -> s.key().metric())
            .thenComparing(s -> s.key().stream())
            .thenComparing(s -> s.key().branch())
            .thenComparing(s -> s.key().kind());

    private ProfileReport() {
    }

    /**
     * Writes the report of {@code profile} into {@code dir}, creating it if needed.
     *
     * @return the files written
     */
    public static ReportFiles write(RedundancyProfile profile, Path dir) throws IOException {
        ChartLibrary.require("A profile report");
        Objects.requireNonNull(profile, "profile");
        Files.createDirectories(dir);
        List<Path> curves = new ArrayList<>();
        List<ReportPage.Figure> curveFigures = new ArrayList<>();
        for (TokenStream stream : TokenStream.values()) {
            for (Branch branch : Branch.values()) {
                if (LayerCurves.available(profile, stream, branch)) {
                    Path file = LayerCurves.write(profile, stream, branch, dir);
                    curves.add(file);
                    curveFigures.add(ReportPage.curves(profile, stream, branch, file.getFileName().toString()));
                }
            }
        }
        List<Path> heatmaps = new ArrayList<>();
        List<ReportPage.Figure> heatmapFigures = new ArrayList<>();
        List<ProfileSeries> ordered = new ArrayList<>(profile.series());
        ordered.sort(PAGE_ORDER);
        for (ProfileSeries series : ordered) {
            Path file = Heatmap.write(profile, series, dir);
            heatmaps.add(file);
            heatmapFigures.add(ReportPage.heatmap(profile, series, file.getFileName().toString()));
        }
        Path html = dir.resolve(PAGE);
        AtomicFiles.writeString(html, ReportPage.html(profile, curveFigures, heatmapFigures));
        ReportFiles files = new ReportFiles(html, curves, heatmaps);
        LOG.info("wrote report of {} ({} images) to {}", ReportText.modelName(profile),
                curves.size() + heatmaps.size(), html);
        return files;
    }
}
