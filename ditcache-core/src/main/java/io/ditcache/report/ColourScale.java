package io.ditcache.report;

import java.awt.Color;
import java.awt.Paint;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;
import io.ditcache.DistanceMetric;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.renderer.PaintScale;

/**
 * The heatmap colour scale: viridis over the finite cell means, linear or, when the data span more than
 * {@value #LOG_DECADES} decades and are all positive, logarithmic. A ratio ({@link DistanceMetric#NORM_RATIO})
 * gets a diverging scale instead, symmetric about 1 (white), blue below and red above, with 1 marked on the
 * legend ({@link #legendPaints}).
 *
 * <p>A log scale works in log10 space throughout (the dataset holds {@link #toScale} values and the legend axis
 * is linear in the exponent, labelled with the values), because JFreeChart's {@code PaintScaleLegend} slices its
 * strip linearly and would smear a log scale into a few bands.
 */
final class ColourScale implements PaintScale {
    /** Span, in decades, above which the scale turns logarithmic. */
    static final double LOG_DECADES = 2.0;
    /** Colour of cells without any finite observation. */
    static final Color EMPTY = new Color(0xBDBDBD);

    // Viridis at 9 evenly spaced points (matplotlib), interpolated linearly in RGB.
    private static final int[] VIRIDIS = {
        0x440154, 0x472C7A, 0x3B518B, 0x2C718E, 0x21908D, 0x27AD81, 0x5CC863, 0xAADC32, 0xFDE725};

    // ColorBrewer RdBu at 9 points, blue (below the centre) to red (above), white in the middle.
    private static final int[] DIVERGING = {
        0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B};
    /** The value a diverging scale is centred on: a ratio of 1 means no change. */
    static final double CENTRE = 1.0;

    private final boolean log;
    private final boolean diverging;
    private final double lower;
    private final double upper;

    private ColourScale(boolean log, boolean diverging, double lower, double upper) {
        this.log = log;
        this.diverging = diverging;
        this.lower = lower;
        this.upper = upper;
    }

    /**
     * One scale for every matrix of one metric on a page, so that a colour means the same value in each: a
     * diverging scale about 1 for {@link DistanceMetric#NORM_RATIO}, else {@link #fit(double[][])} over all cells.
     */
    static ColourScale fit(DistanceMetric metric, List<double[][]> matrices) {
        double[][] all = matrices.stream().flatMap(java.util.Arrays::stream).toArray(double[][]::new);
        return metric == DistanceMetric.NORM_RATIO ? divergingAboutOne(all) : fit(all);
    }

    /** A linear scale symmetric about 1, wide enough for the value farthest from 1. */
    static ColourScale divergingAboutOne(double[][] values) {
        double reach = 0;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isFinite(v)) {
                    reach = Math.max(reach, Math.abs(v - CENTRE));
                }
            }
        }
        reach = Math.max(reach, 1e-6);
        return new ColourScale(false, true, CENTRE - reach, CENTRE + reach);
    }

    /** The scale for a {@code [layer][step]} matrix of means (NaN = empty cell). */
    static ColourScale fit(double[][] values) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        if (min > max) {
            return new ColourScale(false, false, 0, 1);
        }
        boolean log = min > 0 && Math.log10(max / min) > LOG_DECADES;
        double lo = log ? Math.log10(min) : min;
        double hi = log ? Math.log10(max) : max;
        if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.05;
            lo -= pad;
            hi += pad;
        }
        return new ColourScale(log, false, lo, hi);
    }

    boolean isLog() {
        return log;
    }

    /** Whether this is the diverging scale centred on 1. */
    boolean isDiverging() {
        return diverging;
    }

    /** "logarithmic", "linear" or "diverging", for captions and legend titles. */
    String describe() {
        return diverging ? "diverging" : log ? "logarithmic" : "linear";
    }

    /**
     * The paints of the legend strip: this scale, with a black line at 1 on a diverging scale so that the
     * centre can be read off (cells themselves never get the line).
     */
    PaintScale legendPaints() {
        if (!diverging) {
            return this;
        }
        double halfLine = (upper - lower) / 200;
        ColourScale cells = this;
        return new PaintScale() {
            @Override
            public double getLowerBound() {
                return lower;
            }

            @Override
            public double getUpperBound() {
                return upper;
            }

            @Override
            public Paint getPaint(double z) {
                return Math.abs(z - CENTRE) <= halfLine ? Color.BLACK : cells.getPaint(z);
            }
        };
    }

    /** A cell value in scale space (log10 of it on a log scale). */
    double toScale(double value) {
        return log ? Math.log10(value) : value;
    }

    @Override
    public double getLowerBound() {
        return lower;
    }

    @Override
    public double getUpperBound() {
        return upper;
    }

    @Override
    public Paint getPaint(double z) {
        if (!Double.isFinite(z)) {
            return EMPTY;
        }
        int[] map = diverging ? DIVERGING : VIRIDIS;
        double t = Math.max(0, Math.min(1, (z - lower) / (upper - lower))) * (map.length - 1);
        int i = Math.min((int) t, map.length - 2);
        double f = t - i;
        int a = map[i];
        int b = map[i + 1];
        return new Color(mix(a >> 16, b >> 16, f), mix(a >> 8, b >> 8, f), mix(a, b, f));
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round((a & 0xFF) * (1 - f) + (b & 0xFF) * f);
    }

    /** The axis of the colour legend: tick labels are cell values even on a log scale. */
    NumberAxis legendAxis(String label) {
        NumberAxis axis = new NumberAxis(label);
        axis.setRange(lower, upper);
        if (log) {
            axis.setStandardTickUnits(TickLabels.decadesOfExponent());
        } else if (diverging) {
            // units that divide 1, so that 1 is always a tick
            axis.setStandardTickUnits(TickLabels.dividingOne());
        } else {
            double magnitude = Math.max(Math.abs(lower), Math.abs(upper));
            if (magnitude < 1e-3 || magnitude >= 1e5) {
                axis.setNumberFormatOverride(new DecimalFormat("0.##E0", DecimalFormatSymbols.getInstance(Locale.ROOT)));
            }
        }
        return axis;
    }
}
