package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SummaryTableTest {

    @Test
    void findsTheKnownMaximumAndTheMostAndLeastRedundantLayers() {
        List<KindSummary> rows = SummaryTable.rows(ToyProfiles.pattern("toy", 1.0));
        assertEquals(List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT), rows.stream().map(KindSummary::kind).toList());
        for (KindSummary r : rows) {
            assertEquals(ToyProfiles.LAYERS - 1, r.maxLayer(), r.kind() + " max layer");
            assertEquals(0, r.maxStep(), r.kind() + " max step");
            assertEquals(0, r.mostRedundantLayer(), r.kind() + " most redundant");
            assertEquals(ToyProfiles.LAYERS - 1, r.leastRedundantLayer(), r.kind() + " least redundant");
            // Two runs at 1.0x and 1.1x of the pattern: mean 1.05x, std 0.05x, CV 0.05/1.05 in every cell.
            assertEquals(ToyProfiles.value(1.05, ToyProfiles.LAYERS - 1, 0), r.max(), 1e-12);
            assertEquals(ToyProfiles.value(1.05, 0, ToyProfiles.STEPS - 2), r.min(), 1e-12);
            assertEquals(0.05 / 1.05, r.meanCv(), 1e-9);
        }
        KindSummary k = rows.get(0);
        assertEquals(1, k.nonFiniteCells());
        assertEquals(ToyProfiles.LAYERS * (ToyProfiles.STEPS - 1) - 1, k.cells());
        KindSummary v = rows.get(1);
        assertEquals(0, v.nonFiniteCells());
        assertEquals(ToyProfiles.LAYERS * (ToyProfiles.STEPS - 1) - 1, v.cells());
    }

    @Test
    void formatsOneAlignedLinePerKind() {
        String text = SummaryTable.format(ToyProfiles.pattern("toy", 1.0));
        List<String> lines = text.lines().toList();
        assertTrue(lines.get(0).startsWith("toy, ddim: 6 layers x 9 steps, 2 samples in 2 runs, L1_MEAN"), lines.get(0));
        assertTrue(lines.get(1).startsWith("kind"), lines.get(1));
        assertTrue(lines.get(1).endsWith("mean CV"), lines.get(1));
        // kind, cells, mean, min, max, max step, max layer, most redundant, least redundant, mean CV
        List<String> kRow = List.of(lines.get(2).trim().split("\\s+"));
        assertEquals("K", kRow.get(0));
        assertEquals("47", kRow.get(1));
        assertEquals("6.3", kRow.get(4));
        assertEquals(List.of("0", "5", "0", "5"), kRow.subList(5, 9));
        assertEquals("0.04762", kRow.get(9));
        assertTrue(lines.get(3).startsWith("V "));
        assertTrue(lines.get(4).startsWith("A "));
        // Columns line up: every table line is as long as the header where it ends in a number.
        assertEquals(lines.get(1).length(), lines.get(2).length());
        assertTrue(text.contains("1 cell(s) saw NaN/Inf"));
        assertFalse(text.contains("\t"));
    }

    @Test
    void meanCvNeedsTwoRuns() {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "one"), Map.of("name", "ddim"), 2, 4);
        for (int l = 0; l < 2; l++) {
            for (int s = 0; s < 3; s++) {
                p.add(SeriesKey.of(SiteKind.V, DistanceMetric.L1_MEAN), l, s, 1 + l + s);
            }
        }
        p.countRun();
        KindSummary v = SummaryTable.rows(p).get(0);
        assertTrue(Double.isNaN(v.meanCv()));
        assertEquals(1, v.maxLayer());
        assertEquals(2, v.maxStep());
        String row = SummaryTable.format(p).lines().filter(s -> s.startsWith("V ")).findFirst().orElseThrow();
        assertTrue(row.endsWith(" -"), row);
    }

    @Test
    void saysSoWhenThePaperMetricIsMissing() {
        RedundancyProfile p = new RedundancyProfile(Map.of(), Map.of(), 2, 4);
        p.add(SeriesKey.of(SiteKind.K, DistanceMetric.COSINE), 0, 0, 0.1);
        assertTrue(SummaryTable.rows(p).isEmpty());
        assertTrue(SummaryTable.format(p).contains("no L1_MEAN series"));
    }
}
