package io.ditcache.study;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.DistanceMetric;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.StepAxis;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The normalised step axis, correlations and curve agreement on curves with known answers. */
class StudyMathTest {
    /** Column i of an N-step profile at u = i/(N-2): N-1 points. */
    static double[] sampled(DoubleUnaryOperator f, int steps) {
        double[] c = new double[steps - 1];
        for (int i = 0; i < c.length; i++) {
            c[i] = f.applyAsDouble((double) i / (steps - 2));
        }
        return c;
    }

    @Test
    void resamplingALineIsExact() {
        double[] fine = sampled(u -> 3 * u + 1, 20);
        double[] onCoarse = StepAxis.resample(fine, 9);
        assertArrayEquals(sampled(u -> 3 * u + 1, 10), onCoarse, 1e-12);
        assertEquals(1.0, onCoarse[0], 0.0, "u = 0 is the first column");
        assertEquals(4.0, onCoarse[8], 0.0, "u = 1 is the last column");
    }

    @Test
    void resamplingACurveStaysWithinTheLinearInterpolationBound() {
        double[] fine = sampled(u -> u * u, 20); // spacing h = 1/18, |f''| = 2: error <= h^2/8 * 2
        double[] got = StepAxis.resample(fine, 9);
        double[] want = sampled(u -> u * u, 10);
        for (int j = 0; j < want.length; j++) {
            assertTrue(Math.abs(got[j] - want[j]) <= 2.0 / (18 * 18 * 8) + 1e-15, "point " + j);
        }
        assertTrue(Math.abs(got[3] - want[3]) > 1e-6, "an off-grid point (u = 3/8) is interpolated, not copied");
    }

    @Test
    void resamplingKeepsNaNLocal() {
        double[] got = StepAxis.resample(new double[] {1, Double.NaN, 3, 4, 5}, 5);
        assertEquals(1.0, got[0]);
        assertTrue(Double.isNaN(got[1]));
        assertEquals(4.0, got[3]);
    }

    @Test
    void normaliseDividesByTheFiniteMean() {
        assertArrayEquals(new double[] {0.5, 1, 1.5}, StepAxis.normalise(new double[] {1, 2, 3}), 1e-15);
        double[] withNaN = StepAxis.normalise(new double[] {2, Double.NaN, 6});
        assertEquals(0.5, withNaN[0], 1e-15);
        assertTrue(Double.isNaN(withNaN[1]));
        assertTrue(Double.isNaN(StepAxis.normalise(new double[] {0, 0})[0]), "a zero mean normalises to NaN");
    }

    @Test
    void pearsonAndSpearmanOnKnownData() {
        assertEquals(1.0, Correlation.pearson(new double[] {1, 2, 3}, new double[] {3, 5, 7}), 1e-15);
        assertEquals(-1.0, Correlation.pearson(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-15);
        // scipy.stats.pearsonr([1,2,3,4,5],[2,4,5,4,5]) = 0.7745966692414834
        assertEquals(0.7745966692414834, Correlation.pearson(new double[] {1, 2, 3, 4, 5},
                new double[] {2, 4, 5, 4, 5}), 1e-14);
        // ties share their average rank: ranks [1, 2.5, 2.5, 4] and [1, 3, 2, 4]: r = 4.5 / sqrt(4.5 * 5)
        assertArrayEquals(new double[] {1, 2.5, 2.5, 4}, Correlation.ranks(new double[] {1, 2, 2, 3}), 0);
        assertEquals(4.5 / Math.sqrt(22.5), Correlation.spearman(new double[] {1, 2, 2, 3},
                new double[] {1, 3, 2, 4}), 1e-15);
        assertEquals(1.0, Correlation.spearman(new double[] {1, 2, 3, 4}, new double[] {1, 8, 27, 64}), 0,
                "Spearman sees any monotone relation as perfect");
        assertTrue(Double.isNaN(Correlation.pearson(new double[] {1, 1}, new double[] {1, 2})), "constant");
    }

    @Test
    void curvesOfTheSameShapeAgreeAcrossStepCountsAndScales() {
        int layers = 3;
        double[][] a = new double[layers][];
        double[][] b = new double[layers][];
        for (int l = 0; l < layers; l++) {
            double scale = Math.pow(10, l); // layers apart in value: no ties for Spearman to break by rounding
            a[l] = sampled(u -> scale * (2 - u), 20); // 20 steps
            b[l] = sampled(u -> 7.5 * scale * (2 - u), 10); // 10 steps, another scale
        }
        List<CurveAgreement> got = CurveAgreement.layersAndOverall(a, b);
        assertEquals(layers + 1, got.size());
        for (CurveAgreement g : got) {
            assertEquals(1.0, g.pearson(), 1e-12);
            assertEquals(1.0, g.spearman(), 1e-12);
            assertEquals(0.0, g.maxAbsDiff(), 1e-12);
            assertEquals(0.0, g.meanAbsDiff(), 1e-12);
        }
        assertEquals(9, got.get(0).points(), "compared on the coarser grid");
        assertEquals(27, got.get(layers).points(), "overall: every cell");
    }

    @Test
    void differencesAreMeasuredOnNormalisedCurves() {
        double[][] a = {{1, 1, 1, 1}};
        double[][] b = {{1, 1, 1, 5}}; // mean 2: normalised 0.5, 0.5, 0.5, 2.5
        CurveAgreement layer = CurveAgreement.layersAndOverall(a, b).get(0);
        assertEquals(1.5, layer.maxAbsDiff(), 1e-15);
        assertEquals((0.5 * 3 + 1.5) / 4, layer.meanAbsDiff(), 1e-15);
        assertTrue(Double.isNaN(layer.pearson()), "a constant curve has no correlation");
    }

    @Test
    void modelsOfDifferentDepthCompareTheirLayerMeans() {
        double[][] two = {sampled(u -> 1 + u, 6), sampled(u -> 3 + u, 6)};
        double[][] one = {sampled(u -> 2 + u, 6)};
        List<CurveAgreement> got = CurveAgreement.layersAndOverall(two, one);
        assertEquals(1, got.size(), "overall only");
        assertEquals(1.0, got.get(0).pearson(), 1e-12);
        assertEquals(0.0, got.get(0).maxAbsDiff(), 1e-12);
    }

    @Test
    void promptCvIsThePopulationCvAcrossConditions() {
        StudyModel m = new StudyModel("toy", "0123456789abcdef", Map.of("layers", 1), Map.of());
        StudyPlan plan = new StudyPlan(List.of(m), 3, List.of(3), List.of("ddim"), 1.0, Shard.ALL);
        SeriesKey key = SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN);
        double[][] values = {{1, 4}, {2, 4}, {3, 4}}; // per condition: cell (0,0), cell (0,1)
        Map<RunKey, RunRecord> records = new LinkedHashMap<>();
        for (int c = 0; c < 3; c++) {
            RunKey k = new RunKey(0, "ddim", 3, c);
            records.put(k, new RunRecord(k, 1, Map.of(key, new double[][] {values[c]})));
        }
        Study study = Study.fold(plan, records);
        PromptCv cv = study.promptCv().get(0);
        assertEquals(3, cv.runs());
        assertEquals(Math.sqrt(2.0 / 3) / 2, cv.cv()[0][0], 1e-15, "std of 1,2,3 is sqrt(2/3), mean 2");
        assertEquals(0.0, cv.cv()[0][1], 0, "a constant cell has CV 0");
        assertEquals(Math.sqrt(2.0 / 3) / 4, cv.meanCv(), 1e-15, "the paper's summary: mean of the cells");
    }
}
