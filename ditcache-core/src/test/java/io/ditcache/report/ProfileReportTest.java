package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileReportTest {
    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void writesEveryImageAndAPageThatLinksThem(@TempDir Path dir) throws IOException {
        ReportFiles files = ProfileReport.write(ToyProfiles.pattern("toy", 1.0), dir.resolve("out"));
        Path out = dir.resolve("out");

        assertEquals(out.resolve("report.html"), files.html());
        assertEquals(List.of(out.resolve("curves_IMAGE_COND.png"), out.resolve("curves_IMAGE_UNCOND.png")),
                files.curves());
        assertEquals(6, files.heatmaps().size());
        assertTrue(files.heatmaps().contains(out.resolve("heatmap_K_IMAGE_COND_L1_MEAN.png")));
        assertTrue(files.heatmaps().contains(out.resolve("heatmap_ATTN_OUT_IMAGE_UNCOND_L1_MEAN.png")));

        // Exactly the listed files: no temporary leftovers.
        try (Stream<Path> listed = Files.list(out)) {
            assertEquals(Set.copyOf(files.all()), listed.collect(Collectors.toSet()));
        }
        for (Path png : files.all().subList(1, files.all().size())) {
            BufferedImage image = ImageIO.read(png.toFile());
            assertTrue(image != null, png + " does not decode");
            assertTrue(image.getWidth() >= 600 && image.getHeight() >= 400,
                    png + " is " + image.getWidth() + "x" + image.getHeight());
        }

        String html = Files.readString(files.html());
        for (Path png : files.all().subList(1, files.all().size())) {
            String name = png.getFileName().toString();
            assertTrue(html.contains("src=\"" + name + "\""), "page does not show " + name);
        }
        assertTrue(html.contains("<table class=\"summary\">"));
        for (String header : SummaryTable.header()) {
            assertTrue(html.contains("<th>" + header + "</th>"), header);
        }
        // The K row of the summary: largest cell (6 * 1.05) at step 0, layer 5.
        assertTrue(html.contains("<tr><td>K</td><td class=\"n\">47</td>"), "K row with 47 cells");
        assertTrue(html.contains("<td class=\"n\">6.3</td>"), "max of K");
        assertTrue(html.contains("<th>model.name</th><td>toy</td>"));
        assertTrue(html.contains("<th>scheduler.name</th><td>ddim</td>"));
        assertTrue(html.contains("<figcaption>"));
        assertTrue(html.contains("logarithmic"));
        // Self-contained: no scripts, no external resources.
        assertFalse(html.contains("<script"));
        assertFalse(html.contains("http://") || html.contains("https://"));
        assertFalse(html.contains("<link"));
    }

    @Test
    void rewritingReplacesFilesInPlace(@TempDir Path dir) throws IOException {
        ReportFiles first = ProfileReport.write(ToyProfiles.pattern("toy", 1.0), dir);
        byte[] before = Files.readAllBytes(dir.resolve("heatmap_K_IMAGE_COND_L1_MEAN.png"));
        ReportFiles second = ProfileReport.write(ToyProfiles.pattern("other toy", 1.0), dir);
        assertEquals(first.all(), second.all());
        assertFalse(java.util.Arrays.equals(before, Files.readAllBytes(dir.resolve("heatmap_K_IMAGE_COND_L1_MEAN.png"))),
                "the title names the model, so the image changes");
        assertTrue(Files.readString(second.html()).contains("other toy"));
        try (Stream<Path> listed = Files.list(dir)) {
            assertEquals(second.all().size(), listed.count());
        }
    }

    @Test
    void escapesModelNamesInThePage(@TempDir Path dir) throws IOException {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "<b>x&y</b>"), Map.of(), 2, 3);
        p.add(SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN), 0, 0, 1.0);
        p.countRun();
        String html = Files.readString(ProfileReport.write(p, dir).html());
        assertTrue(html.contains("&lt;b&gt;x&amp;y&lt;/b&gt;"));
        assertFalse(html.contains("<b>x"));
        assertTrue(html.contains("(not recorded)"), "empty scheduler map is said, not hidden");
    }

    @Test
    void aSingleCellProfileRenders(@TempDir Path dir) throws IOException {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "tiny"), Map.of("name", "ddim"), 1, 2);
        for (SiteKind kind : LayerCurves.KINDS) {
            p.add(SeriesKey.of(kind, DistanceMetric.L1_MEAN), 0, 0, 0.5);
        }
        p.countRun();
        ReportFiles files = ProfileReport.write(p, dir);
        assertEquals(5, files.all().size(), "page, curves, three heatmaps");
        for (Path png : files.all().subList(1, 5)) {
            assertTrue(ImageIO.read(png.toFile()).getWidth() > 200, png.toString());
        }
        assertTrue(SummaryTable.format(p).lines().anyMatch(l -> l.startsWith("K ")));
    }

    @Test
    void aProfileWithoutSeriesStillGetsAPage(@TempDir Path dir) throws IOException {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "empty"), Map.of("name", "ddim"), 4, 10);
        ReportFiles files = ProfileReport.write(p, dir);
        assertEquals(List.of(files.html()), files.all());
        String html = Files.readString(files.html());
        assertTrue(html.contains("No L1_MEAN series"));
    }
}
