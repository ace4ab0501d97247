package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * The paper's figure: a grid of small panels, one per layer, each with the L1_MEAN curves of K, V and the
 * attention output A over steps on a log y axis, one image per (stream, branch). All panels share one y range
 * so that layers compare at a glance; with more than one sample a band shows &plusmn;1 std over samples.
 */
final class LayerCurves {
    /** The kinds drawn, in legend order. */
    public static final List<SiteKind> KINDS = List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT);
    /** The metric drawn. */
    public static final DistanceMetric METRIC = DistanceMetric.L1_MEAN;

    // matplotlib's tab10 blue, orange, green.
    private static final Color[] COLOURS = {new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C)};
    private static final int PANEL_WIDTH = 260;
    private static final int PANEL_HEIGHT = 190;
    private static final int HEADER = 64;
    private static final int FOOTER = 30;
    private static final int MARGIN = 10;
    /** Wide enough for the header and footer lines. */
    private static final int MIN_WIDTH = 980;
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    private static final Font TEXT_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    private static final Font PANEL_TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 12);
    private static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 10);

    private LayerCurves() {
    }

    /** The file name for one stream and branch, e.g. {@code curves_IMAGE_COND.png}. */
    public static String fileName(TokenStream stream, Branch branch) {
        return "curves_" + stream + "_" + branch + ".png";
    }

    /** Whether {@code profile} has an L1_MEAN series of K, V or ATTN_OUT for this stream and branch. */
    public static boolean available(RedundancyProfile profile, TokenStream stream, Branch branch) {
        return !curves(profile, stream, branch).isEmpty();
    }

    /**
     * Draws the figure for one stream and branch.
     *
     * @throws IllegalArgumentException if the profile has none of the curves ({@link #available})
     */
    public static BufferedImage render(RedundancyProfile profile, TokenStream stream, Branch branch) {
        List<ProfileSeries> curves = curves(profile, stream, branch);
        if (curves.isEmpty()) {
            throw new IllegalArgumentException("profile has no " + METRIC + " series of " + KINDS + " for "
                    + stream + "/" + branch);
        }
        ChartImages.preferHeadless();
        boolean band = profile.samples() > 1;
        double[] range = range(curves, band);
        int layers = profile.layers();
        int cols = layers <= 4 ? layers : (int) Math.ceil(Math.sqrt(layers * 1.6));
        int rows = (layers + cols - 1) / cols;
        int width = Math.max(MIN_WIDTH, 2 * MARGIN + cols * PANEL_WIDTH);
        int height = HEADER + rows * PANEL_HEIGHT + FOOTER;

        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            header(g, profile, stream, branch, curves, band);
            String[] groups = groupLabels(profile);
            for (int l = 0; l < layers; l++) {
                Rectangle2D area = new Rectangle2D.Double(MARGIN + (l % cols) * PANEL_WIDTH,
                        HEADER + (l / cols) * PANEL_HEIGHT, PANEL_WIDTH, PANEL_HEIGHT);
                panel(l, groups[l], profile.steps() - 1, curves, range, band).draw(g, area);
            }
            g.setColor(Color.DARK_GRAY);
            g.setFont(TEXT_FONT);
            g.drawString("x: step i (distance between calls i and i+1).   y: " + ReportText.metric(METRIC)
                    + ", log scale, same range in every panel.   Gaps: no finite positive value.",
                    MARGIN, height - 10);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Writes the figure for one stream and branch into {@code dir} as {@link #fileName}, atomically. */
    public static Path write(RedundancyProfile profile, TokenStream stream, Branch branch, Path dir)
            throws IOException {
        Path target = dir.resolve(fileName(stream, branch));
        ChartImages.writePng(render(profile, stream, branch), target);
        return target;
    }

    /** Writes one figure per stream and branch that has curves; returns the files in stream, branch order. */
    public static List<Path> writeAll(RedundancyProfile profile, Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (TokenStream stream : TokenStream.values()) {
            for (Branch branch : Branch.values()) {
                if (available(profile, stream, branch)) {
                    out.add(write(profile, stream, branch, dir));
                }
            }
        }
        return out;
    }

    /** The present series, in {@link #KINDS} order; an absent kind is simply not drawn. */
    private static List<ProfileSeries> curves(RedundancyProfile profile, TokenStream stream, Branch branch) {
        List<ProfileSeries> out = new ArrayList<>();
        for (SiteKind kind : KINDS) {
            Optional<ProfileSeries> s = profile.series(new SeriesKey(kind, stream, branch, METRIC));
            s.ifPresent(out::add);
        }
        return out;
    }

    /** The shared y range {lo, hi} over every positive finite value (and band edge) drawn. */
    private static double[] range(List<ProfileSeries> curves, boolean band) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (ProfileSeries s : curves) {
            for (int l = 0; l < s.layers(); l++) {
                for (int i = 0; i < s.steps(); i++) {
                    double m = s.mean(l, i);
                    if (Double.isFinite(m) && m > 0) {
                        lo = Math.min(lo, m);
                        hi = Math.max(hi, band ? m + s.std(l, i) : m);
                    }
                }
            }
        }
        if (hi == 0) {
            return new double[] {1e-3, 1};
        }
        // Whole decades, a little beyond the data, so that every panel has at least two labelled ticks; the
        // extra 0.1% keeps the end decades inside the range despite rounding, so they get their labels.
        return new double[] {Math.pow(10, Math.floor(Math.log10(lo / 1.05))) * 0.999,
            Math.pow(10, Math.ceil(Math.log10(hi * 1.05))) * 1.001};
    }

    /**
     * Each layer's block group for its panel title ("double", "single", "joint"), or empty strings for a model of
     * plain blocks only or one whose layout no family here describes.
     */
    static String[] groupLabels(RedundancyProfile profile) {
        String[] out = new String[profile.layers()];
        java.util.Arrays.fill(out, "");
        List<GroupSummary.Range> ranges = GroupSummary.ranges(GroupSummary.layout(profile), profile.layers());
        if (ranges.size() == 1 && ranges.get(0).group().equals("plain")) {
            return out;
        }
        for (GroupSummary.Range r : ranges) {
            for (int l = r.first(); l <= r.last(); l++) {
                out[l] = r.group();
            }
        }
        return out;
    }

    private static JFreeChart panel(int layer, String group, int steps, List<ProfileSeries> curves, double[] range,
            boolean band) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (ProfileSeries s : curves) {
            YIntervalSeries line = new YIntervalSeries(ReportText.kind(s.key().kind()), false, true);
            for (int i = 0; i < steps; i++) {
                double m = s.mean(layer, i);
                if (Double.isFinite(m) && m > 0) {
                    double sd = band ? s.std(layer, i) : 0;
                    line.add(i, m, Math.max(m - sd, range[0]), Math.min(m + sd, range[1]));
                } else {
                    line.add(i, Double.NaN, Double.NaN, Double.NaN);
                }
            }
            data.addSeries(line);
        }
        XYLineAndShapeRenderer renderer = band ? new DeviationRenderer(true, steps <= 12)
                : new XYLineAndShapeRenderer(true, steps <= 12);
        if (renderer instanceof DeviationRenderer deviation) {
            deviation.setAlpha(0.2f);
        }
        for (int k = 0; k < curves.size(); k++) {
            Color colour = COLOURS[KINDS.indexOf(curves.get(k).key().kind())];
            renderer.setSeriesPaint(k, colour);
            renderer.setSeriesFillPaint(k, colour);
            renderer.setSeriesStroke(k, new BasicStroke(1.6f));
        }

        NumberAxis x = new NumberAxis();
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setRange(-0.5, steps - 0.5);
        x.setTickLabelFont(TICK_FONT);
        LogAxis y = new LogAxis();
        y.setRange(range[0], range[1]);
        y.setTickLabelFont(TICK_FONT);
        y.setStandardTickUnits(TickLabels.decades());
        y.setNumberFormatOverride(TickLabels.values());
        y.setMinorTickMarksVisible(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

        JFreeChart chart = new JFreeChart(null, null, plot, false);
        chart.setTitle(new TextTitle("layer " + layer + (group.isEmpty() ? "" : " (" + group + ")"),
                PANEL_TITLE_FONT));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(2, 2, 4, 8));
        return chart;
    }

    private static void header(Graphics2D g, RedundancyProfile profile, TokenStream stream, Branch branch,
            List<ProfileSeries> curves, boolean band) {
        g.setColor(Color.BLACK);
        g.setFont(TITLE_FONT);
        g.drawString(ReportText.modelName(profile) + " - " + METRIC + " between consecutive steps, per layer ("
                + ReportText.stream(stream) + ", " + ReportText.branch(branch) + ")", MARGIN, 24);
        g.setFont(TEXT_FONT);
        int x = MARGIN;
        int y = 50;
        for (ProfileSeries s : curves) {
            SiteKind kind = s.key().kind();
            g.setColor(COLOURS[KINDS.indexOf(kind)]);
            g.setStroke(new BasicStroke(3f));
            g.drawLine(x, y - 5, x + 26, y - 5);
            g.setColor(Color.BLACK);
            String label = ReportText.kind(kind);
            g.drawString(label, x + 32, y);
            x += 44 + g.getFontMetrics().stringWidth(label);
        }
        g.setColor(Color.DARK_GRAY);
        String note = "(A = attention output)   scheduler " + ReportText.schedulerName(profile) + ", " + ReportText.count(profile.steps(), "step")
                + ", " + ReportText.count(profile.samples(), "sample")
                + (band ? "; shaded: mean \u00b1 1 std over samples" : "");
        g.drawString(note, x + 16, y);
    }
}
