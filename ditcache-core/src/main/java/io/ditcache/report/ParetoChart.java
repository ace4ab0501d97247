package io.ditcache.report;

import io.ditcache.bench.Shootout;
import io.ditcache.bench.ShootoutRow;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The shootout's speed-against-fidelity chart: measured speedup against the median per-sample PSNR
 * ({@link ShootoutRow#rankingPsnr()}). Apart from {@link ShootoutReport} so that the report class links
 * without JFreeChart, which is optional, and can say what to add.
 */
final class ParetoChart {
    private ParetoChart() {
    }

    static void write(Shootout.Result result, Path target) throws IOException {
        ChartImages.writePng(chart(result), 1100, 700, target);
    }

    static JFreeChart chart(Shootout.Result result) {
        ChartImages.preferHeadless();
        // noise rows are left out: their speedup is not the cache's doing, and would stretch the axis
        List<ShootoutRow> rows = result.rows().stream().filter(r -> !r.noise()).toList();
        double cap = rows.stream().mapToDouble(ShootoutRow::rankingPsnr).filter(Double::isFinite).max()
                .orElse(40) + 5;
        XYSeriesCollection data = new XYSeriesCollection();
        Map<String, XYSeries> byPolicy = new LinkedHashMap<>();
        for (ShootoutRow r : rows) {
            byPolicy.computeIfAbsent(r.policy(), p -> new XYSeries(p, false, true))
                    .add(r.speedup(), Math.min(r.rankingPsnr(), cap));
        }
        byPolicy.values().forEach(data::addSeries);
        XYSeries front = new XYSeries("Pareto front", false, true);
        for (ShootoutRow r : ShootoutReport.paretoFront(result.rows())) {
            front.add(r.speedup(), Math.min(r.rankingPsnr(), cap));
        }
        data.addSeries(front);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        int last = data.getSeriesCount() - 1;
        renderer.setSeriesPaint(last, Color.BLACK);
        renderer.setSeriesStroke(last, new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 4f}, 0f));
        renderer.setSeriesShapesVisible(last, false);
        NumberAxis x = new NumberAxis("measured speedup over uncached sampling (x)");
        x.setAutoRangeIncludesZero(false);
        boolean perSample = rows.stream().anyMatch(r -> !Double.isNaN(r.psnrMedian()));
        NumberAxis y = new NumberAxis((perSample ? "median per-sample PSNR" : "PSNR")
                + " against uncached samples (dB; identical drawn at " + (int) cap + ")");
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        JFreeChart chart = new JFreeChart("Cache policies: speed against fidelity",
                new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        Shootout.Settings s = result.settings();
        chart.addSubtitle(new TextTitle(String.format(Locale.ROOT, "%d samples, %d steps, guidance %s, median of %d "
                + "interleaved pairs (more where re-measured); up and right is better", s.samples(), s.steps(),
                s.guidance(), s.repeats()),
                new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        int noise = result.rows().size() - rows.size();
        if (noise > 0) {
            chart.addSubtitle(new TextTitle(noise + (noise == 1 ? " row" : " rows") + " left out: speedup above what "
                    + "the skipped share allows (" + ShootoutRow.NOISE_NOTE + ")",
                    new Font(Font.SANS_SERIF, Font.ITALIC, 12)));
        }
        return chart;
    }
}
