package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.bench.MachineLoad;
import io.ditcache.bench.SampleFidelity;
import io.ditcache.bench.Shootout;
import io.ditcache.bench.ShootoutRow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-sample figures in a shootout's files, on constructed rows: the CSV keeps its columns and adds
 * {@code psnr_median}, {@code psnr_p10}, {@code class_changed} and the intervals at the end; the JSON carries them;
 * the front and the chart rank by the median per-sample PSNR, so that a row whose all-pixel PSNR is higher but
 * whose typical sample is worse does not win.
 */
class ShootoutFidelityReportTest {
    @TempDir
    Path dir;

    /** Per-sample MSEs: most samples at {@code typical}, one at {@code outlier}. */
    private static SampleFidelity fidelity(double typical, double outlier, int changed) {
        double[] mse = new double[20];
        Arrays.fill(mse, typical);
        mse[7] = outlier;
        boolean[] flags = new boolean[20];
        for (int i = 0; i < changed; i++) {
            flags[i] = true;
        }
        return SampleFidelity.of(mse, 2.0, null, flags);
    }

    private static ShootoutRow row(String policy, double speedup, SampleFidelity f) {
        return new ShootoutRow(policy, "p", speedup, 0.5, f.psnr(), 0.9, 0.1, 0.9, 20, 1, speedup, Map.of(),
                new ShootoutRow.Spread(speedup, speedup, speedup, 1), false, f);
    }

    private static Shootout.Result result(ShootoutRow... rows) {
        return new Shootout.Result(new Shootout.Settings(10, 20, 1.25, 0, 20, 1, 1), Map.of("name", "ddim"), 1.0,
                0.9, 20, List.of(rows), Shootout.Fidelity.IMAGES, MachineLoad.UNKNOWN);
    }

    @Test
    void theCsvAddsPerSampleColumnsAndIntervalsAtTheEnd() throws Exception {
        // a: every sample at MSE 1e-3 but one far off; b: every sample at 4e-3, none far off
        SampleFidelity fa = fidelity(1e-3, 0.2, 2);
        SampleFidelity fb = fidelity(4e-3, 4e-3, 0);
        ShootoutRow a = row("a", 2.0, fa);
        ShootoutRow b = row("b", 2.0, fb);
        assertTrue(a.psnr() < b.psnr() && a.psnrMedian() > b.psnrMedian(), "the outlier drags a's all-pixel PSNR");
        ShootoutReport.write(result(a, b), dir);
        List<String> csv = Files.readAllLines(dir.resolve(ShootoutReport.CSV));
        List<String> header = List.of(csv.get(0).split(","));
        assertEquals(List.of("policy", "params", "speedup", "skipped_fraction", "psnr", "ssim", "max_abs_err",
                "class_accuracy", "fd", "speedup_min", "speedup_median", "speedup_max", "timed_pairs",
                "speedup_ceiling", "note", "psnr_median", "psnr_p10", "class_changed"), header.subList(0, 18));
        assertTrue(header.subList(18, header.size()).stream().allMatch(h -> h.endsWith("_lo") || h.endsWith("_hi")),
                "interval columns at the end: " + header);
        for (String h : List.of("psnr_median_lo", "psnr_median_hi", "psnr_p10_lo", "psnr_p10_hi",
                "class_changed_lo", "class_changed_hi")) {
            assertTrue(header.contains(h), h);
        }
        String[] cells = csv.get(1).split(",", -1);
        assertEquals(header.size(), cells.length);
        assertEquals(fa.psnrMedian(), Double.parseDouble(cells[header.indexOf("psnr_median")]), 1e-12);
        assertEquals(fa.psnrP10(), Double.parseDouble(cells[header.indexOf("psnr_p10")]), 1e-12);
        assertEquals(0.1, Double.parseDouble(cells[header.indexOf("class_changed")]), 1e-12);
        assertEquals(fa.psnrMedianInterval().lo(), Double.parseDouble(cells[header.indexOf("psnr_median_lo")]),
                1e-12);
        assertEquals(fa.classChangedInterval().hi(), Double.parseDouble(cells[header.indexOf("class_changed_hi")]),
                1e-12);
        assertEquals("", cells[header.indexOf("ssim_lo")], "no SSIM measured: empty");

        JsonNode json = new ObjectMapper().readTree(dir.resolve(ShootoutReport.JSON).toFile());
        JsonNode ps = json.get("rows").get(0).get("per_sample");
        assertEquals(20, ps.get("samples").asInt());
        assertEquals(fa.psnrMedian(), ps.get("psnr_median").asDouble(), 1e-12);
        assertEquals(fa.psnrP10Interval().hi(), ps.get("psnr_p10_interval").get(1).asDouble(), 1e-12);
        assertEquals(1000, ps.get("bootstrap").get("resamples").asInt());

        String page = Files.readString(dir.resolve(ShootoutReport.PAGE));
        assertTrue(page.contains("PSNR median [95%]") && page.contains("class changed [95%]"), "page columns");
        assertTrue(ShootoutReport.format(result(a, b)).contains("PSNR median"), "terminal columns");
    }

    @Test
    void theFrontAndTheChartRankByTheMedianPerSamplePsnr() {
        // equal speed: a's typical sample is better, b's all-pixel figure is; only a is on the front
        ShootoutRow a = row("a", 2.0, fidelity(1e-3, 0.2, 0));
        ShootoutRow b = row("b", 2.0, fidelity(4e-3, 4e-3, 0));
        assertEquals(List.of(a), ShootoutReport.paretoFront(List.of(a, b)));
        JFreeChart chart = ParetoChart.chart(result(a, b));
        XYPlot plot = chart.getXYPlot();
        assertEquals(a.psnrMedian(), plot.getDataset().getYValue(0, 0), 1e-9, "series a at its median PSNR");
        assertTrue(plot.getRangeAxis().getLabel().startsWith("median per-sample PSNR"),
                plot.getRangeAxis().getLabel());
        // a row without per-sample figures ranks by its all-pixel PSNR, as before
        ShootoutRow old = new ShootoutRow("c", "", 3.0, 0.6, 25, 1, 0, Double.NaN, Double.NaN, 1, 3, Map.of());
        assertEquals(25, old.rankingPsnr());
    }
}
