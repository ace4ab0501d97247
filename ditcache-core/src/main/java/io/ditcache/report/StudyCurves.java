package io.ditcache.report;

import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.StepAxis;
import io.ditcache.study.GroupKey;
import io.ditcache.study.Study;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * One model's redundancy curve under every scheduler and step count of a study, on the normalised step axis:
 * the mean over layers of {@link StudySummary#METRIC} (conditional branch) divided by its mean. Curves that lie
 * on top of each other are what step-count and scheduler stability mean.
 */
final class StudyCurves {
    private static final Color[] COLOURS = {new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C),
        new Color(0xD62728), new Color(0x9467BD), new Color(0x8C564B)};
    private static final float[][] DASHES = {null, {8f, 4f}, {2f, 3f}, {10f, 3f, 2f, 3f}};

    /** Pixels kept free right of the plot for the last tick label. */
    static final int RIGHT_PADDING = 24;

    private StudyCurves() {
    }

    /** File name for a kind. */
    public static String fileName(SiteKind kind) {
        return "normalised-" + kind.name().toLowerCase(Locale.ROOT) + ".png";
    }

    /** Whether any group of model {@code model} has the series of {@code kind}, so that the chart has a curve. */
    static boolean available(Study study, int model, SiteKind kind) {
        return study.profiles().keySet().stream().filter(g -> g.model() == model)
                .anyMatch(g -> layerMeanCurve(study.profile(g), kind).isPresent());
    }

    /** The chart of model {@code model} (index into the plan) and {@code kind}. */
    static JFreeChart chart(Study study, int model, SiteKind kind) {
        ChartImages.preferHeadless();
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        List<String> schedulers = study.plan().schedulers();
        List<Integer> steps = study.plan().steps();
        int index = 0;
        for (GroupKey g : study.profiles().keySet()) {
            if (g.model() != model) {
                continue;
            }
            Optional<double[]> curve = layerMeanCurve(study.profile(g), kind);
            if (curve.isEmpty()) {
                continue;
            }
            double[] y = StepAxis.normalise(curve.get());
            XYSeries s = new XYSeries(g.scheduler() + ", " + g.steps() + " steps", false, true);
            for (int i = 0; i < y.length; i++) {
                if (Double.isFinite(y[i])) {
                    s.add(StepAxis.u(i, y.length), y[i]);
                }
            }
            data.addSeries(s);
            int si = schedulers.indexOf(g.scheduler());
            int ni = steps.indexOf(g.steps());
            renderer.setSeriesPaint(index, COLOURS[si % COLOURS.length]);
            float[] dash = DASHES[ni % DASHES.length];
            renderer.setSeriesStroke(index, dash == null ? new BasicStroke(2f)
                    : new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, dash, 0f));
            index++;
        }
        NumberAxis x = new NumberAxis("normalised step u = i / (N-2)");
        x.setRange(0, 1);
        x.setTickUnit(new NumberTickUnit(0.1));
        NumberAxis y = new NumberAxis("distance / its mean");
        y.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        String label = study.plan().models().get(model).label();
        JFreeChart chart = new JFreeChart(label + " - " + ReportText.kind(kind) + ", " + StudySummary.METRIC
                + ", mean over layers, normalised", new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        // room on the right, so that the label of the last tick (u = 1) is not cut off at the image's edge
        chart.setPadding(new RectangleInsets(4, 8, 4, RIGHT_PADDING));
        chart.addSubtitle(new TextTitle("colour: scheduler; line style: step count; "
                + StudySummary.conditions(study.plan()) + " each", new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        return chart;
    }

    /** Writes the chart into {@code dir}; returns the file. */
    public static Path write(Study study, int model, SiteKind kind, Path dir) throws IOException {
        Path target = dir.resolve(fileName(kind));
        ChartImages.writePng(chart(study, model, kind), 1000, 560, target);
        return target;
    }

    static String caption(SiteKind kind) {
        return "Mean over layers of " + ReportText.metric(StudySummary.METRIC) + " for "
                + ReportText.kind(kind) + ", conditional branch, each curve divided by its own mean and drawn on the "
                + "normalised step axis, so that runs of different step counts and schedulers overlay. Where "
                + "the curves coincide the redundancy pattern does not depend on the step count or the scheduler.";
    }

    /** Column-wise mean over layers of a series' means; empty if the profile lacks the series. */
    static Optional<double[]> layerMeanCurve(RedundancyProfile p, SiteKind kind) {
        Optional<ProfileSeries> s = p.series(StudySummary.key(kind));
        if (s.isEmpty()) {
            return Optional.empty();
        }
        double[][] m = s.get().means();
        double[] out = new double[m[0].length];
        for (int t = 0; t < out.length; t++) {
            double sum = 0;
            int n = 0;
            for (double[] row : m) {
                if (Double.isFinite(row[t])) {
                    sum += row[t];
                    n++;
                }
            }
            out[t] = n == 0 ? Double.NaN : sum / n;
        }
        return Optional.of(out);
    }
}
