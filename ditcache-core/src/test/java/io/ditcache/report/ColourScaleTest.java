package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import org.junit.jupiter.api.Test;

class ColourScaleTest {
    private static final double NAN = Double.NaN;

    @Test
    void turnsLogarithmicBeyondTwoDecadesOfPositiveData() {
        assertTrue(ColourScale.fit(new double[][] {{1e-4, 1e-1}, {NAN, 1}}).isLog());
        assertFalse(ColourScale.fit(new double[][] {{1, 50}}).isLog());
        assertFalse(ColourScale.fit(new double[][] {{-1e-9, 1}}).isLog(), "non-positive data stay linear");
        ColourScale log = ColourScale.fit(new double[][] {{1e-4, 1}});
        assertEquals(-4, log.getLowerBound(), 1e-12);
        assertEquals(0, log.getUpperBound(), 1e-12);
        assertEquals(-2, log.toScale(0.01), 1e-12);
    }

    @Test
    void mapsTheEndsToViridisAndEmptyToGrey() {
        ColourScale s = ColourScale.fit(new double[][] {{2, 4}});
        assertEquals(new Color(0x440154), s.getPaint(2));
        assertEquals(new Color(0xFDE725), s.getPaint(4));
        assertEquals(new Color(0x440154), s.getPaint(-100), "clamped below");
        assertEquals(ColourScale.EMPTY, s.getPaint(NAN));
    }

    @Test
    void constantAndEmptyDataStillHaveARange() {
        ColourScale constant = ColourScale.fit(new double[][] {{3, 3}});
        assertTrue(constant.getUpperBound() > constant.getLowerBound());
        ColourScale empty = ColourScale.fit(new double[][] {{NAN}});
        assertTrue(empty.getUpperBound() > empty.getLowerBound());
    }

    @Test
    void tickLabelsArePlainNumbersNearOneAndPowersBeyond() {
        assertEquals("0.01", TickLabels.values().format(0.01));
        assertEquals("1000", TickLabels.values().format(1000));
        assertEquals("1e-5", TickLabels.values().format(1e-5));
        assertEquals("0.03162", ColourScale.fit(new double[][] {{1e-4, 1}}).legendAxis("x").getStandardTickUnits()
                .getCeilingTickUnit(1).valueToString(-1.5));
        assertEquals("5.31e-06", ReportText.number(5.31e-6));
        assertEquals("0.5", ReportText.number(0.5));
        assertEquals("1000", ReportText.number(1000));
        assertEquals("-", ReportText.number(NAN));
    }
}
