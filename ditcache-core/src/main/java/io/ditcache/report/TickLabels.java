package io.ditcache.report;

import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.TickUnits;

/**
 * Tick labels for logarithmic axes: plain numbers for decades between 0.001 and 1000 ("0.01", "100"),
 * "1e-5" style beyond, never JFreeChart's default fractional powers ("10^-2.5").
 */
final class TickLabels extends NumberFormat {
    private static final long serialVersionUID = 1L;

    private final boolean exponent;

    /** @param exponent whether the formatted number is the exponent z of the value 10^z */
    private TickLabels(boolean exponent) {
        this.exponent = exponent;
    }

    /** Formats values (for {@code LogAxis#setNumberFormatOverride}). */
    static TickLabels values() {
        return new TickLabels(false);
    }

    /**
     * Tick units of whole decades (1, 2, 5, 10 ... decades apart) for an axis that is linear in the exponent,
     * labelled with the values.
     */
    static TickUnits decadesOfExponent() {
        TickUnits units = new TickUnits();
        NumberFormat labels = new TickLabels(true);
        for (double u : new double[] {1, 2, 5, 10, 20, 50, 100}) {
            units.add(new NumberTickUnit(u, labels));
        }
        return units;
    }

    /**
     * Linear tick units that divide 1 (1, 2 and 5 times powers of ten up to 1), so that 1 is a tick; wider
     * ranges fall back to units of 10, 100, ... .
     */
    static TickUnits dividingOne() {
        TickUnits units = new TickUnits();
        for (int e = 1; e <= 6; e++) {
            units.add(new NumberTickUnit(Math.pow(10, e), new TickLabels(false)));
        }
        for (int e = -6; e <= 0; e++) {
            for (double m : new double[] {1, 2, 5}) {
                double u = m * Math.pow(10, e);
                if (u <= 1) {
                    units.add(new NumberTickUnit(u, new TickLabels(false)));
                }
            }
        }
        return units;
    }

    /** Whole-decade tick units for a {@code LogAxis}, whose tick units are in exponent space, with 9 minor ticks. */
    static TickUnits decades() {
        TickUnits units = new TickUnits();
        NumberFormat labels = values();
        for (double u : new double[] {1, 2, 5, 10, 20, 50, 100}) {
            units.add(new NumberTickUnit(u, labels, u == 1 ? 9 : 0));
        }
        return units;
    }

    @Override
    public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
        double value = exponent ? Math.pow(10, number) : number;
        double z = Math.log10(value);
        long e = Math.round(z);
        if (value > 0 && Math.abs(z - e) < 1e-9 && (e < -3 || e > 3)) {
            return to.append("1e").append(e);
        }
        return to.append(ReportText.number(value));
    }

    @Override
    public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
        return format((double) number, to, pos);
    }

    @Override
    public Number parse(String source, ParsePosition pos) {
        throw new UnsupportedOperationException("tick labels are for display only");
    }
}
