package io.ditcache.report;

import java.awt.Color;
import java.awt.Paint;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.renderer.PaintScale;

/**
 * The heatmap colour scale: viridis over the finite cell means, linear or, when the data span more than
 * {@value #LOG_DECADES} decades and are all positive, logarithmic.
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

    private final boolean log;
    private final double lower;
    private final double upper;

    private ColourScale(boolean log, double lower, double upper) {
        this.log = log;
        this.lower = lower;
        this.upper = upper;
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
            return new ColourScale(false, 0, 1);
        }
        boolean log = min > 0 && Math.log10(max / min) > LOG_DECADES;
        double lo = log ? Math.log10(min) : min;
        double hi = log ? Math.log10(max) : max;
        if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.05;
            lo -= pad;
            hi += pad;
        }
        return new ColourScale(log, lo, hi);
    }

    boolean isLog() {
        return log;
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
        double t = Math.max(0, Math.min(1, (z - lower) / (upper - lower))) * (VIRIDIS.length - 1);
        int i = Math.min((int) t, VIRIDIS.length - 2);
        double f = t - i;
        int a = VIRIDIS[i];
        int b = VIRIDIS[i + 1];
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
        } else {
            double magnitude = Math.max(Math.abs(lower), Math.abs(upper));
            if (magnitude < 1e-3 || magnitude >= 1e5) {
                axis.setNumberFormatOverride(new DecimalFormat("0.##E0", DecimalFormatSymbols.getInstance(Locale.ROOT)));
            }
        }
        return axis;
    }
}
