package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The profile page as a new user meets it: it counts samples (not runs) and names them, shows the per-cell CV,
 * opens with the per-layer curves and a reading, then a contents list whose anchors all exist; heatmaps cover only
 * the layers with the site, one colour scale per metric, a diverging one about 1 for NORM_RATIO.
 */
class ProfilePageTest {
    static final int LAYERS = 4;
    static final int STEPS = 7;
    static final int SAMPLES = 10;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * One run of {@value #SAMPLES} samples side by side: K, V, A on every layer, the modulated input on block 0
     * only; L1_MEAN of K spans four decades, of A less than one, so a per-series choice would mix log and linear.
     */
    static RedundancyProfile batchOfTen() {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim", "guidance", 1.5),
                LAYERS, STEPS);
        for (int sample = 0; sample < SAMPLES; sample++) {
            double jitter = 1 + 0.02 * sample;
            for (int l = 0; l < LAYERS; l++) {
                for (int s = 0; s < STEPS - 1; s++) {
                    p.add(key(SiteKind.K, DistanceMetric.L1_MEAN), l, s, jitter * Math.pow(10, -s * 0.7));
                    p.add(key(SiteKind.V, DistanceMetric.L1_MEAN), l, s, jitter * (1 + l) * 0.1);
                    p.add(key(SiteKind.ATTN_OUT, DistanceMetric.L1_MEAN), l, s, jitter * (2 + 0.1 * s));
                    p.add(key(SiteKind.K, DistanceMetric.NORM_RATIO), l, s, 0.9 + 0.05 * s);
                    if (l == 0) {
                        p.add(key(SiteKind.MODULATED_INPUT, DistanceMetric.L1_MEAN), l, s, jitter);
                    }
                }
            }
        }
        p.countRun(SAMPLES);
        return p;
    }

    private static SeriesKey key(SiteKind kind, DistanceMetric metric) {
        return new SeriesKey(kind, TokenStream.IMAGE, Branch.COND, metric);
    }

    @Test
    void countsAndNamesTheSamplesAndShowsTheirCv(@TempDir Path dir) throws IOException {
        RedundancyProfile p = batchOfTen();
        assertEquals(1, p.runs());
        assertEquals(SAMPLES, p.samples());
        String html = Files.readString(ProfileReport.write(p, dir, "classes 0-9 x seed 0").html());
        assertTrue(html.contains("<th>samples</th><td>10 (classes 0-9 x seed 0)</td>"), "settings count samples");
        assertTrue(html.contains("<li>10 samples (classes 0-9 x seed 0) in 1 sampling run, scheduler ddim, 7 steps"),
                "the reading says what was sampled");
        assertTrue(html.contains("Each cell is the mean over 10 samples"), "heatmap captions count samples");
        assertFalse(html.contains("over 1 run"), "no run count where samples are meant");
        assertTrue(html.contains("shaded band the mean \u00b1 1 standard deviation over 10 samples"));
        // the summary's mean CV is a number, not "-": the samples differ by 2 % steps
        Matcher k = Pattern.compile("<tr><td>K</td>(<td class=\"n\">[^<]*</td>){8}<td class=\"n\">([^<]*)</td>")
                .matcher(html);
        assertTrue(k.find(), "K row");
        double cv = Double.parseDouble(k.group(2));
        assertTrue(cv > 0.03 && cv < 0.1, "mean CV of K over the samples: " + cv);
        assertTrue(html.contains("Mean per-cell CV over the samples: "), "heatmap captions give the CV");
    }

    @Test
    void opensWithTheCurvesAndAReadingThenContentsWhoseAnchorsExist(@TempDir Path dir) throws IOException {
        String html = Files.readString(ProfileReport.write(batchOfTen(), dir, "").html());
        int firstImage = html.indexOf("<img ");
        assertTrue(firstImage > 0 && html.substring(firstImage).startsWith("<img src=\"curves_IMAGE_COND.png\""),
                "the first figure is the per-layer curves");
        int reading = html.indexOf("<h2 id=\"reading\">");
        int contents = html.indexOf("<h2 id=\"contents\">");
        int settings = html.indexOf("<h2 id=\"settings\">");
        assertTrue(firstImage < reading && reading < contents && contents < settings,
                "curves, reading, contents, then the rest");
        assertTrue(html.substring(reading, contents).contains("Most redundant"), "the reading names layers");
        Set<String> ids = new LinkedHashSet<>();
        Matcher id = Pattern.compile(" id=\"([^\"]+)\"").matcher(html);
        while (id.find()) {
            assertTrue(ids.add(id.group(1)), "id " + id.group(1) + " is unique");
        }
        Matcher link = Pattern.compile("href=\"#([^\"]+)\"").matcher(html);
        int links = 0;
        while (link.find()) {
            assertTrue(ids.contains(link.group(1)), "anchor #" + link.group(1) + " exists");
            links++;
        }
        assertTrue(links >= 7, "contents link every section and metric: " + links);
        for (String metric : List.of("L1_MEAN", "NORM_RATIO")) {
            assertTrue(ids.contains("heatmaps-" + metric), metric + " has its own heatmap section");
        }
        assertTrue(html.contains("<div class=\"grid\">"), "heatmaps side by side, not one long column");
    }

    @Test
    void aSiteOnlyBlockZeroHasGetsOneRowNotAGreyPicture(@TempDir Path dir) throws IOException {
        RedundancyProfile p = batchOfTen();
        ReportFiles files = ProfileReport.write(p, dir, "");
        String html = Files.readString(files.html());
        assertTrue(html.contains("Only layer 0 has this site, so only it is drawn."), "caption says so");
        Path modulated = dir.resolve(Heatmap.fileName(key(SiteKind.MODULATED_INPUT, DistanceMetric.L1_MEAN)));
        Path full = dir.resolve(Heatmap.fileName(key(SiteKind.K, DistanceMetric.L1_MEAN)));
        BufferedImage one = ImageIO.read(modulated.toFile());
        BufferedImage all = ImageIO.read(full.toFile());
        assertTrue(one.getHeight() < all.getHeight(), "a one-layer strip is lower than a full heatmap");
        assertEquals(0, greyShare(one), 0.02, "no grey cells for the layers without the site");
        assertEquals(0, greyShare(all), 0.02);
        assertFalse(html.substring(html.indexOf("modulated input")).startsWith("Grey:"));
    }

    /** Share of pixels of the empty-cell grey. */
    private static double greyShare(BufferedImage image) {
        int grey = 0;
        int rgb = ColourScale.EMPTY.getRGB();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                grey += image.getRGB(x, y) == rgb ? 1 : 0;
            }
        }
        return (double) grey / (image.getWidth() * image.getHeight());
    }

    @Test
    void oneScalePerMetricAndADivergingOneAboutOneForTheRatio(@TempDir Path dir) throws IOException {
        RedundancyProfile p = batchOfTen();
        String html = Files.readString(ProfileReport.write(p, dir, "").html());
        // K alone spans four decades (log), A alone less than one (linear): the page uses one scale for both
        Map<DistanceMetric, ColourScale> scales = ProfileReport.scales(p);
        assertTrue(scales.get(DistanceMetric.L1_MEAN).isLog());
        assertFalse(ColourScale.fit(p.series(key(SiteKind.ATTN_OUT, DistanceMetric.L1_MEAN)).orElseThrow().means())
                .isLog(), "A on its own would be linear");
        assertTrue(html.contains("Colour scale: viridis, logarithmic, the same for every L1_MEAN heatmap"));
        assertFalse(html.contains("viridis, linear, the same for every L1_MEAN"), "no linear L1_MEAN heatmap");
        assertTrue(html.contains("Colour scale: diverging, centred on 1"), "NORM_RATIO diverges about 1");

        ColourScale ratio = scales.get(DistanceMetric.NORM_RATIO);
        assertTrue(ratio.isDiverging());
        assertEquals(1.0, (ratio.getLowerBound() + ratio.getUpperBound()) / 2, 1e-12, "centred on 1");
        Color centre = (Color) ratio.getPaint(1.0);
        Color below = (Color) ratio.getPaint(ratio.getLowerBound());
        Color above = (Color) ratio.getPaint(ratio.getUpperBound());
        assertTrue(centre.getRed() > 240 && centre.getGreen() > 240 && centre.getBlue() > 240, "1 is white");
        assertTrue(below.getBlue() > below.getRed(), "below 1 is blue");
        assertTrue(above.getRed() > above.getBlue(), "above 1 is red");
        assertEquals(Color.BLACK, ratio.legendPaints().getPaint(1.0), "the legend marks 1");
        assertEquals(centre, ratio.getPaint(1.0), "cells at 1 stay white");
    }
}
