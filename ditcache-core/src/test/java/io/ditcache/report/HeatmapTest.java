package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.PaintScaleLegend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeatmapTest {
    private static final SeriesKey K = SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN);
    private static final SeriesKey V = SeriesKey.of(SiteKind.V, DistanceMetric.L1_MEAN);

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void fileNamesAreStableAndReadable() {
        assertEquals("heatmap_K_IMAGE_COND_L1_MEAN.png", Heatmap.fileName(K));
        assertEquals("heatmap_ATTN_OUT_TEXT_UNCOND_COSINE.png", Heatmap.fileName(
                new SeriesKey(SiteKind.ATTN_OUT, TokenStream.TEXT, Branch.UNCOND, DistanceMetric.COSINE)));
    }

    @Test
    void theWrittenPictureEncodesTheData(@TempDir Path dir) throws IOException {
        RedundancyProfile profile = ToyProfiles.pattern("toy", 1.0);
        ProfileSeries k = profile.series(K).orElseThrow();
        Path file = Heatmap.write(profile, k, dir);
        assertEquals(dir.resolve("heatmap_K_IMAGE_COND_L1_MEAN.png"), file);
        BufferedImage png = ImageIO.read(file.toFile());
        Rectangle size = Heatmap.size(k.layers(), k.steps());
        assertEquals(size.width, png.getWidth());
        assertEquals(size.height, png.getHeight());

        // Locate cells through the same chart laid out at the same size.
        Cells cells = Cells.of(Heatmap.chart(profile, k), size);
        int last = ToyProfiles.STEPS - 2;
        Color high = cells.colour(png, ToyProfiles.LAYERS - 1, 0);
        Color low = cells.colour(png, 0, last);
        Color middle = cells.colour(png, 2, 3);
        // Viridis: the largest value is yellow, the smallest dark purple.
        assertEquals(new Color(0xFDE725), high);
        assertEquals(new Color(0x440154), low);
        assertTrue(brightness(low) < brightness(middle) && brightness(middle) < brightness(high),
                "brightness rises with the value: " + low + " " + middle + " " + high);
        // Block 0 is at the top: the top-left cell is layer 0, step 0.
        assertTrue(cells.centre(0, 0).y < cells.centre(ToyProfiles.LAYERS - 1, 0).y);
        // The NaN-only cell shows no data colour: grey and red hatching only.
        Rectangle2D nan = cells.cell(ToyProfiles.NAN_LAYER, ToyProfiles.NAN_STEP);
        int grey = 0;
        int red = 0;
        for (int y = (int) nan.getMinY() + 3; y < nan.getMaxY() - 3; y++) {
            for (int x = (int) nan.getMinX() + 3; x < nan.getMaxX() - 3; x++) {
                Color c = new Color(png.getRGB(x, y));
                if (c.equals(ColourScale.EMPTY)) {
                    grey++;
                } else if (c.getRed() > 150 && c.getGreen() < 120 && c.getBlue() < 120) {
                    red++;
                }
            }
        }
        assertTrue(grey > 0 && red > 0, "grey " + grey + ", red " + red);
    }

    @Test
    void anEmptyCellIsGreyAndSaidInTheLegend() {
        RedundancyProfile profile = ToyProfiles.pattern("toy", 1.0);
        ProfileSeries v = profile.series(V).orElseThrow();
        Rectangle size = Heatmap.size(v.layers(), v.steps());
        JFreeChart chart = Heatmap.chart(profile, v);
        Cells cells = Cells.of(chart, size);
        BufferedImage image = chart.createBufferedImage(size.width, size.height);
        assertEquals(ColourScale.EMPTY, cells.colour(image, ToyProfiles.EMPTY_LAYER, ToyProfiles.EMPTY_STEP));
        assertNotEquals(ColourScale.EMPTY, cells.colour(image, ToyProfiles.EMPTY_LAYER, ToyProfiles.EMPTY_STEP + 1));
        // Subtitles: settings line, colour legend, cell legend.
        assertEquals(3, chart.getSubtitleCount());
    }

    @Test
    void theColourLegendSaysWhenItIsLogarithmic() {
        RedundancyProfile wide = ToyProfiles.pattern("toy", 1.0);
        assertTrue(legendTitle(wide, K).contains("log colour scale"));
        RedundancyProfile narrow = new RedundancyProfile(Map.of("name", "flat"), Map.of(), 3, 4);
        for (int l = 0; l < 3; l++) {
            for (int s = 0; s < 3; s++) {
                narrow.add(K, l, s, 1 + l + s);
            }
        }
        narrow.countRun();
        assertTrue(legendTitle(narrow, K).contains("linear colour scale"));
        JFreeChart chart = Heatmap.chart(narrow, narrow.series(K).orElseThrow());
        assertEquals("flat - K, L1_MEAN, COND branch, IMAGE tokens", chart.getTitle().getText());
        assertEquals(2, chart.getSubtitleCount(), "no cell legend without empty or non-finite cells");
    }

    @Test
    void twoProfilesOfDifferentDataGiveDifferentPictures() {
        RedundancyProfile a = ToyProfiles.pattern("toy", 1.0);
        RedundancyProfile b = new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"),
                ToyProfiles.LAYERS, ToyProfiles.STEPS);
        // Same range as a, opposite layer order.
        for (int l = 0; l < ToyProfiles.LAYERS; l++) {
            for (int s = 0; s < ToyProfiles.STEPS - 1; s++) {
                b.add(V, l, s, ToyProfiles.value(1.05, ToyProfiles.LAYERS - 1 - l, s));
            }
        }
        b.countRun();
        ProfileSeries va = a.series(V).orElseThrow();
        ProfileSeries vb = b.series(V).orElseThrow();
        Rectangle size = Heatmap.size(ToyProfiles.LAYERS, ToyProfiles.STEPS - 1);
        Cells cells = Cells.of(Heatmap.chart(a, va), size);
        BufferedImage ia = Heatmap.chart(a, va).createBufferedImage(size.width, size.height);
        BufferedImage ib = Heatmap.chart(b, vb).createBufferedImage(size.width, size.height);
        assertEquals(cells.colour(ia, 0, 1), cells.colour(ib, ToyProfiles.LAYERS - 1, 1));
        assertNotEquals(cells.colour(ia, 0, 1), cells.colour(ib, 0, 1));
    }

    private static String legendTitle(RedundancyProfile p, SeriesKey key) {
        JFreeChart chart = Heatmap.chart(p, p.series(key).orElseThrow());
        for (int i = 0; i < chart.getSubtitleCount(); i++) {
            if (chart.getSubtitle(i) instanceof PaintScaleLegend legend) {
                return legend.getAxis().getLabel();
            }
        }
        throw new AssertionError("no colour legend");
    }

    private static double brightness(Color c) {
        return 0.299 * c.getRed() + 0.587 * c.getGreen() + 0.114 * c.getBlue();
    }

    /** Where the cells of a heatmap lie in an image of a given size. */
    private record Cells(XYPlot plot, Rectangle2D area) {
        static Cells of(JFreeChart chart, Rectangle size) {
            ChartRenderingInfo info = new ChartRenderingInfo();
            chart.createBufferedImage(size.width, size.height, info);
            return new Cells(chart.getXYPlot(), info.getPlotInfo().getDataArea());
        }

        java.awt.Point centre(int layer, int step) {
            Rectangle2D c = cell(layer, step);
            return new java.awt.Point((int) c.getCenterX(), (int) c.getCenterY());
        }

        Rectangle2D cell(int layer, int step) {
            double x0 = plot.getDomainAxis().valueToJava2D(step - 0.5, area, plot.getDomainAxisEdge());
            double x1 = plot.getDomainAxis().valueToJava2D(step + 0.5, area, plot.getDomainAxisEdge());
            double y0 = plot.getRangeAxis().valueToJava2D(layer - 0.5, area, plot.getRangeAxisEdge());
            double y1 = plot.getRangeAxis().valueToJava2D(layer + 0.5, area, plot.getRangeAxisEdge());
            return new Rectangle2D.Double(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
        }

        Color colour(BufferedImage image, int layer, int step) {
            java.awt.Point p = centre(layer, step);
            assertFalse(p.x < 0 || p.y < 0 || p.x >= image.getWidth() || p.y >= image.getHeight());
            return new Color(image.getRGB(p.x, p.y));
        }
    }
}
