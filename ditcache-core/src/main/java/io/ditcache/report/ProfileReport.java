package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.TokenStream;
import io.ditcache.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A profile's report folder: the per-layer curves ({@link LayerCurves}), one heatmap per series
 * ({@link Heatmap}, one colour scale per metric) and {@value #PAGE}, a self-contained page that opens with the
 * curves and a reading in words, then a contents list, the settings (with the samples counted and named), the
 * {@link SummaryTable} and the heatmaps by metric. Every file is written atomically; files of earlier reports with other names are
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
        return write(profile, dir, "");
    }

    /**
     * Writes the report of {@code profile} into {@code dir}, creating it if needed, saying what the samples were.
     *
     * @param sampled what was sampled, in words, for the page (for example "classes 0-9 x seed 0"); may be empty
     * @return the files written
     */
    public static ReportFiles write(RedundancyProfile profile, Path dir, String sampled) throws IOException {
        ChartLibrary.require("A profile report");
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(sampled, "sampled");
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
        Map<DistanceMetric, List<ReportPage.Figure>> heatmapFigures = new TreeMap<>();
        List<ProfileSeries> ordered = new ArrayList<>(profile.series());
        ordered.sort(PAGE_ORDER);
        Map<DistanceMetric, ColourScale> scales = scales(profile);
        for (ProfileSeries series : ordered) {
            ColourScale scale = scales.get(series.key().metric());
            Path file = Heatmap.write(profile, series, dir, scale);
            heatmaps.add(file);
            heatmapFigures.computeIfAbsent(series.key().metric(), m -> new ArrayList<>())
                    .add(ReportPage.heatmap(profile, series, file.getFileName().toString(), scale));
        }
        Path html = dir.resolve(PAGE);
        AtomicFiles.writeString(html, ReportPage.html(profile, sampled, curveFigures, heatmapFigures));
        ReportFiles files = new ReportFiles(html, curves, heatmaps);
        LOG.info("wrote report of {} ({} images) to {}", ReportText.modelName(profile),
                curves.size() + heatmaps.size(), html);
        return files;
    }

    /** One colour scale per metric over all of the profile's series, so that one metric reads one way. */
    static Map<DistanceMetric, ColourScale> scales(RedundancyProfile profile) {
        Map<DistanceMetric, List<double[][]>> byMetric = new EnumMap<>(DistanceMetric.class);
        for (ProfileSeries s : profile.series()) {
            byMetric.computeIfAbsent(s.key().metric(), m -> new ArrayList<>()).add(s.means());
        }
        Map<DistanceMetric, ColourScale> out = new EnumMap<>(DistanceMetric.class);
        byMetric.forEach((m, all) -> out.put(m, ColourScale.fit(m, all)));
        return out;
    }
}
