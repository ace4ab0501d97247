package io.ditcache.report;

import io.ditcache.ProfileSeries;
import io.ditcache.SiteKind;

/**
 * One line of the summary: a series' cell means over all layers and steps.
 *
 * @param kind                 the site kind
 * @param cells                cells with at least one finite observation
 * @param nonFiniteCells       cells that saw a NaN or infinite distance
 * @param mean                 mean of the cell means
 * @param min                  smallest cell mean
 * @param max                  largest cell mean
 * @param maxLayer             layer of the largest cell mean
 * @param maxStep              step (transition {@code i -> i+1}) of the largest cell mean
 * @param mostRedundantLayer   layer with the smallest mean distance over its steps
 * @param leastRedundantLayer  layer with the largest mean distance over its steps
 * @param meanCv               mean of the per-cell CVs over samples; NaN with fewer than two samples
 */
public record KindSummary(SiteKind kind, int cells, int nonFiniteCells, double mean, double min, double max,
        int maxLayer, int maxStep, int mostRedundantLayer, int leastRedundantLayer, double meanCv) {

    /**
     * Summarises one series; layers and cells without finite observations are left out. With no finite cell
     * at all, the numbers are NaN and the indices -1.
     *
     * @param samples the samples the profile folded ({@link io.ditcache.RedundancyProfile#samples()}): the
     *                mean CV needs two or more
     */
    public static KindSummary of(ProfileSeries series, long samples) {
        int cells = 0;
        int nonFiniteCells = 0;
        double sum = 0;
        double min = Double.NaN;
        double max = Double.NaN;
        int maxLayer = -1;
        int maxStep = -1;
        int mostLayer = -1;
        int leastLayer = -1;
        double mostValue = Double.POSITIVE_INFINITY;
        double leastValue = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < series.layers(); l++) {
            double layerSum = 0;
            int layerCells = 0;
            for (int s = 0; s < series.steps(); s++) {
                nonFiniteCells += series.nonFinite(l, s) > 0 ? 1 : 0;
                if (series.count(l, s) == 0) {
                    continue;
                }
                double v = series.mean(l, s);
                cells++;
                sum += v;
                layerSum += v;
                layerCells++;
                if (Double.isNaN(min) || v < min) {
                    min = v;
                }
                if (Double.isNaN(max) || v > max) {
                    max = v;
                    maxLayer = l;
                    maxStep = s;
                }
            }
            if (layerCells > 0) {
                double layerMean = layerSum / layerCells;
                if (layerMean < mostValue) {
                    mostValue = layerMean;
                    mostLayer = l;
                }
                if (layerMean > leastValue) {
                    leastValue = layerMean;
                    leastLayer = l;
                }
            }
        }
        return new KindSummary(series.key().kind(), cells, nonFiniteCells, cells == 0 ? Double.NaN : sum / cells,
                min, max, maxLayer, maxStep, mostLayer, leastLayer, samples > 1 ? series.meanCv() : Double.NaN);
    }
}
