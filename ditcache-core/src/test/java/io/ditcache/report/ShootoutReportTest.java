package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.bench.MachineLoad;
import io.ditcache.bench.Shootout;
import io.ditcache.bench.ShootoutRow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shootout whose row measured a speedup its skipped share cannot explain (8.47x at 60 % skipped, as on a busy
 * machine with {@code --repeats 1}): the CSV, JSON, page, terminal table and chart flag it, show the spread of the
 * timed pairs and the machine's load, and keep it off the front and out of the chart's axis range.
 */
class ShootoutReportTest {
    @TempDir
    Path dir;

    static Shootout.Result result(MachineLoad load) {
        ShootoutRow fora = new ShootoutRow("fora", "interval=2", 1.9, 0.5, 30, 0.9, 0.1, 0.9, 20, 1, 1.9, Map.of(),
                new ShootoutRow.Spread(1.8, 1.9, 2.05, 3), false);
        ShootoutRow busy = new ShootoutRow("fbcache", "threshold=0.2", 8.47, 0.6, 28, 0.9, 0.2, 0.9, 21, 1, 8.47,
                Map.of(), new ShootoutRow.Spread(7.9, 8.47, 9.1, 7), true);
        Shootout.Settings s = new Shootout.Settings(10, 4, 1.25, 0, 4, 1, 1);
        return new Shootout.Result(s, Map.of("name", "ddim"), 1.0, 0.9, 20, List.of(fora, busy),
                Shootout.Fidelity.IMAGES, load);
    }

    @Test
    void theNoiseRowIsFlaggedWithItsSpreadInEveryFile() throws Exception {
        ShootoutReport.write(result(new MachineLoad(2, 3.1, 4.5, 3.9)), dir);
        List<String> csv = Files.readAllLines(dir.resolve(ShootoutReport.CSV));
        assertTrue(csv.get(0).startsWith("policy,params,speedup,skipped_fraction,psnr,ssim,max_abs_err,class_accuracy,"
                + "fd,speedup_min,speedup_median,speedup_max,timed_pairs,speedup_ceiling,note,"), "the columns of "
                + "earlier releases come first, in their order: " + csv.get(0));
        String[] fora = csv.get(1).split(",", -1);
        assertEquals(csv.get(0).split(",").length, fora.length, csv.get(1));
        assertEquals("1.8", fora[9]);
        assertEquals("2.05", fora[11]);
        assertEquals("3", fora[12]);
        assertEquals(2.0, Double.parseDouble(fora[13]), 1e-12, "ceiling 1 / (1 - 0.5)");
        assertEquals("", fora[14]);
        String[] busy = csv.get(2).split(",", -1);
        assertEquals("7.9", busy[9]);
        assertEquals("8.47", busy[10]);
        assertEquals("9.1", busy[11]);
        assertEquals("7", busy[12]);
        assertEquals(2.5, Double.parseDouble(busy[13]), 1e-12);
        assertEquals(ShootoutRow.NOISE_NOTE, busy[14]);

        JsonNode json = new ObjectMapper().readTree(dir.resolve(ShootoutReport.JSON).toFile());
        assertTrue(json.get("machine").get("busy").asBoolean());
        assertEquals(4.5, json.get("machine").get("load_average_max").asDouble());
        assertEquals(2, json.get("machine").get("cores").asInt());
        JsonNode row = json.get("rows").get(1);
        assertTrue(row.get("noise").asBoolean());
        assertEquals(ShootoutRow.NOISE_NOTE, row.get("note").asText());
        assertEquals(7.9, row.get("speedup_spread").get("min").asDouble());
        assertEquals(8.47, row.get("speedup_spread").get("median").asDouble());
        assertEquals(9.1, row.get("speedup_spread").get("max").asDouble());
        assertEquals(7, row.get("speedup_spread").get("pairs").asInt());
        assertEquals(2.5, row.get("speedup_ceiling").asDouble(), 1e-12);
        assertFalse(json.get("rows").get(0).get("noise").asBoolean());

        String page = Files.readString(dir.resolve(ShootoutReport.PAGE));
        assertTrue(page.contains("the machine was too busy to time reliably"), "the load is said");
        assertTrue(page.contains("1 row measured a speedup above what its skipped share allows"), page);
        assertTrue(page.contains("<tr class=\"noise\""), "the row is marked");
        assertTrue(page.contains("7.90 / 8.47 / 9.10 (7)"), "its spread is shown");
        assertFalse(page.contains("<tr style=\"font-weight:bold\"><td>fbcache"), "and it is not on the front");
        assertTrue(page.contains("<tr style=\"font-weight:bold\"><td>fora"));

        String table = ShootoutReport.format(result(new MachineLoad(2, 3.1, 4.5, 3.9)));
        assertTrue(table.contains("noise: machine too busy (8.47x measured, at most 2.50x for 60.0% skipped, "
                + "7 pairs)"), table);
        assertTrue(table.contains("1.80-2.05x"), table);
        assertTrue(table.contains("machine: load average 3.10 at the start, at most 4.50, on 2 cores: the machine "
                + "was too busy"), table);
    }

    @Test
    void theChartLeavesTheNoiseRowOutOfItsAxis() {
        JFreeChart chart = ParetoChart.chart(result(new MachineLoad(8, 1, 1, 1)));
        XYPlot plot = chart.getXYPlot();
        double upper = plot.getDomainAxis().getRange().getUpperBound();
        assertTrue(upper < 3, "the axis ends near the real rows (1.9x), not at 8.47x: " + upper);
        for (int s = 0; s < plot.getDataset().getSeriesCount(); s++) {
            assertFalse(plot.getDataset().getSeriesKey(s).toString().equals("fbcache"), "no series of noise only");
        }
        assertTrue(chart.getSubtitleCount() >= 2);
    }

    @Test
    void aQuietMachineIsNotCalledBusy() {
        MachineLoad quiet = new MachineLoad(8, 1.2, 2.0, 1.5);
        assertFalse(quiet.busy());
        assertFalse(quiet.describe().contains("too busy"), quiet.describe());
        assertTrue(new MachineLoad(2, 2.5, 2.5, 2.5).busy());
        assertFalse(MachineLoad.UNKNOWN.busy(), "no reading: nothing said");
    }
}
