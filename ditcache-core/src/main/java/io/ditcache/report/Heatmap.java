package io.ditcache.report;

import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.TexturePaint;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.annotations.XYShapeAnnotation;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;

/**
 * A layer &times; step heatmap of one series' cell means: x is the step transition {@code i -> i+1}, y the
 * layer with block 0 at the top, colour the mean distance over samples (viridis; logarithmic when the data span
 * more than two decades, which the legend title says; diverging about 1 for a ratio). Only the layers that have
 * the site are drawn (a site only block 0 has gets one row, not a mostly grey picture). Cells without a finite
 * observation are grey; cells that saw a NaN or infinite distance are hatched red.
 */
final class Heatmap {
    /** Colour of the hatching over cells that saw non-finite observations. */
    static final Color NON_FINITE = new Color(0xE3, 0x1A, 0x1C);

    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    private static final Font SMALL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private Heatmap() {
    }

    /** The file name of a series' heatmap, e.g. {@code heatmap_K_IMAGE_COND_L1_MEAN.png}. */
    public static String fileName(SeriesKey key) {
        return "heatmap_" + key.kind() + "_" + key.stream() + "_" + key.branch() + "_" + key.metric() + ".png";
    }

    /** The chart of one series of {@code profile}, on a colour scale fitted to that series alone. */
    static JFreeChart chart(RedundancyProfile profile, ProfileSeries series) {
        return chart(profile, series, ColourScale.fit(series.key().metric(), List.<double[][]>of(series.means())));
    }

    /** The chart of one series of {@code profile} on {@code scale} (shared by every series of its metric). */
    static JFreeChart chart(RedundancyProfile profile, ProfileSeries series, ColourScale scale) {
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(series, "series");
        ChartImages.preferHeadless();
        SeriesKey key = series.key();
        int steps = series.steps();
        int[] span = layerSpan(series);

        NumberAxis x = new NumberAxis("step i  (distance between calls i and i+1)");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setRange(-0.5, steps - 0.5);
        NumberAxis y = new NumberAxis("layer  (block 0 at top)");
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        y.setRange(span[0] - 0.5, span[1] + 0.5);
        y.setInverted(true);

        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);
        renderer.setBlockAnchor(RectangleAnchor.CENTER);
        XYPlot plot = new XYPlot(cells(series, scale), x, y, renderer);
        plot.setBackgroundPaint(ColourScale.EMPTY);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setOutlinePaint(Color.DARK_GRAY);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

        boolean anyEmpty = false;
        boolean anyNonFinite = false;
        TexturePaint hatch = hatch();
        for (int l = span[0]; l <= span[1]; l++) {
            for (int s = 0; s < steps; s++) {
                anyEmpty |= series.count(l, s) == 0 && series.nonFinite(l, s) == 0;
                if (series.nonFinite(l, s) > 0) {
                    anyNonFinite = true;
                    plot.addAnnotation(new XYShapeAnnotation(new Rectangle2D.Double(s - 0.5, l - 0.5, 1, 1),
                            new BasicStroke(1.5f), NON_FINITE, hatch));
                }
            }
        }

        String title = ReportText.modelName(profile) + " - " + ReportText.kind(key.kind()) + ", "
                + key.metric() + ", " + key.branch() + " branch, " + key.stream() + " tokens";
        JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(false); // crisp cell edges; text stays anti-aliased
        chart.setTextAntiAlias(RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        chart.addSubtitle(new TextTitle(subtitle(profile, series, span), SMALL_FONT));
        chart.addSubtitle(colourLegend(key, scale));
        if (anyEmpty || anyNonFinite) {
            chart.addSubtitle(cellLegend(anyEmpty, anyNonFinite, hatch));
        }
        return chart;
    }

    /**
     * Writes the heatmap of one series into {@code dir} as {@link #fileName}, atomically.
     *
     * @return the written file
     */
    public static Path write(RedundancyProfile profile, ProfileSeries series, Path dir) throws IOException {
        return write(profile, series, dir, ColourScale.fit(series.key().metric(), List.<double[][]>of(series.means())));
    }

    /** As {@link #write(RedundancyProfile, ProfileSeries, Path)}, on a colour scale shared with other series. */
    static Path write(RedundancyProfile profile, ProfileSeries series, Path dir, ColourScale scale)
            throws IOException {
        Path target = dir.resolve(fileName(series.key()));
        int[] span = layerSpan(series);
        Rectangle size = size(span[1] - span[0] + 1, series.steps());
        ChartImages.writePng(chart(profile, series, scale), size.width, size.height, target);
        return target;
    }

    /** Image size: about 16 px per cell, within readable bounds; a strip of one or two layers stays low. */
    static Rectangle size(int layers, int steps) {
        int width = Math.max(720, Math.min(1600, 260 + 16 * steps));
        int height = layers <= 2 ? 300 : Math.max(480, Math.min(1200, 220 + 16 * layers));
        return new Rectangle(width, height);
    }

    /**
     * The first and last layer with any observation of the series (finite or not): the layers that have the
     * site. All layers when none has one.
     */
    static int[] layerSpan(ProfileSeries series) {
        int first = -1;
        int last = -1;
        for (int l = 0; l < series.layers(); l++) {
            for (int s = 0; s < series.steps(); s++) {
                if (series.count(l, s) > 0 || series.nonFinite(l, s) > 0) {
                    first = first < 0 ? l : first;
                    last = l;
                    break;
                }
            }
        }
        return first < 0 ? new int[] {0, series.layers() - 1} : new int[] {first, last};
    }

    /** Cells with at least one finite observation, as (step, layer, scale value). */
    private static DefaultXYZDataset cells(ProfileSeries series, ColourScale scale) {
        int n = 0;
        for (int l = 0; l < series.layers(); l++) {
            for (int s = 0; s < series.steps(); s++) {
                n += series.count(l, s) > 0 ? 1 : 0;
            }
        }
        double[][] xyz = new double[3][n];
        int i = 0;
        for (int l = 0; l < series.layers(); l++) {
            for (int s = 0; s < series.steps(); s++) {
                if (series.count(l, s) > 0) {
                    xyz[0][i] = s;
                    xyz[1][i] = l;
                    xyz[2][i] = scale.toScale(series.mean(l, s));
                    i++;
                }
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries(series.key().toString(), xyz);
        return data;
    }

    private static String subtitle(RedundancyProfile profile, ProfileSeries series, int[] span) {
        String layers = span[1] - span[0] + 1 == series.layers() ? ReportText.count(profile.layers(), "layer")
                : (span[0] == span[1] ? "layer " + span[0] : "layers " + span[0] + "-" + span[1]) + " of "
                        + profile.layers() + " (the others lack this site)";
        return "scheduler " + ReportText.schedulerName(profile) + ", " + ReportText.count(profile.steps(), "step")
                + ", " + layers + ", colour = mean over " + ReportText.count(profile.samples(), "sample");
    }

    private static PaintScaleLegend colourLegend(SeriesKey key, ColourScale scale) {
        String label = ReportText.metric(key.metric()) + (scale.isDiverging()
                ? "  (diverging, white = 1, black line)" : scale.isLog() ? "  (log colour scale)"
                : "  (linear colour scale)");
        NumberAxis axis = scale.legendAxis(label);
        axis.setTickLabelFont(SMALL_FONT);
        axis.setLabelFont(SMALL_FONT);
        PaintScaleLegend legend = new PaintScaleLegend(scale.legendPaints(), axis);
        legend.setSubdivisionCount(256);
        legend.setAxisLocation(AxisLocation.BOTTOM_OR_RIGHT);
        legend.setAxisOffset(4);
        legend.setStripWidth(16);
        legend.setStripOutlineVisible(true);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(new RectangleInsets(8, 12, 8, 8));
        legend.setBackgroundPaint(Color.WHITE);
        return legend;
    }

    private static LegendTitle cellLegend(boolean empty, boolean nonFinite, TexturePaint hatch) {
        LegendItemCollection items = new LegendItemCollection();
        Rectangle2D swatch = new Rectangle2D.Double(-7, -7, 14, 14);
        if (empty) {
            LegendItem item = new LegendItem("no finite observation", null, null, null, swatch,
                    ColourScale.EMPTY, new BasicStroke(1f), Color.DARK_GRAY);
            items.add(item);
        }
        if (nonFinite) {
            LegendItem item = new LegendItem("cell saw NaN/Inf distances (not averaged in)", null, null, null,
                    swatch, hatch, new BasicStroke(1.5f), NON_FINITE);
            items.add(item);
        }
        LegendTitle legend = new LegendTitle(() -> items);
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setItemFont(SMALL_FONT);
        legend.setFrame(BlockBorder.NONE);
        legend.setMargin(new RectangleInsets(4, 4, 4, 4));
        return legend;
    }

    /** Red diagonal hatching over a transparent background, so a partly finite cell keeps its colour. */
    private static TexturePaint hatch() {
        BufferedImage tile = new BufferedImage(6, 6, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = tile.createGraphics();
        g.setColor(NON_FINITE);
        g.setStroke(new BasicStroke(1.5f));
        g.drawLine(0, 6, 6, 0);
        g.drawLine(-3, 3, 3, -3);
        g.drawLine(3, 9, 9, 3);
        g.dispose();
        return new TexturePaint(tile, new Rectangle(0, 0, 6, 6));
    }
}
