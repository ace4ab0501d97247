package io.ditcache.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class ReadFloorProbeTest {
    private static final List<Branch> ROWS = List.of(Branch.COND, Branch.UNCOND);
    private static final Site K = Site.of(0, SiteKind.K);
    private static final Site OUT = Site.of(1, SiteKind.BLOCK_OUT);

    /** Call {@code step}'s activation at a site: 2 rows of {@code perRow} values that differ per site and step. */
    private static float[] values(int step, int site, int perRow) {
        float[] v = new float[2 * perRow];
        for (int j = 0; j < v.length; j++) {
            v[j] = (float) Math.sin(0.37 * j + 1.3 * step + 2.1 * site);
        }
        return v;
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }

    private static void observe(ReadFloorProbe p, int step, int steps, Site site, float[] v, boolean transposed) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = transposed ? Tensors.fromFloats(v, 2, v.length / 6, 3).transpose(1, 2)
                    : Tensors.fromFloats(v, 2, 3, v.length / 6);
            p.observe(new Step(step, steps, 1000 - step, ROWS), site, t);
        }
    }

    @Test
    void readsEveryFloatOfEachConsecutivePairOnce() {
        int steps = 4;
        int perRow = 3 * 1021; // not a multiple of any vector width: the tail loop is read too
        try (ReadFloorProbe p = new ReadFloorProbe(EnumSet.of(SiteKind.K, SiteKind.BLOCK_OUT))) {
            double want = 0;
            for (int run = 0; run < 2; run++) {
                for (int i = 0; i < steps; i++) {
                    int s = 0;
                    for (Site site : List.of(K, OUT)) {
                        observe(p, i, steps, site, values(i, s, perRow), s == 1);
                        if (i > 0) {
                            want += sum(values(i - 1, s, perRow)) + sum(values(i, s, perRow));
                        }
                        s++;
                    }
                }
                p.endRun();
            }
            assertEquals(2L * 2 * (steps - 1) * 2 * 2 * perRow, p.elementsRead(),
                    "2 runs x 2 sites x 3 comparisons x 2 activations x 2 rows");
            // the transposed BLOCK_OUT activation is read as its contiguous copy: the same floats, another order
            assertEquals(want, p.checksum(), 1e-4 * Math.abs(want) + 1e-2);
        }
    }

    /** A residual is read as the profiler takes it on the CPU: both steps' outputs and inputs, nothing stored. */
    @Test
    void aResidualReadsBothStepsOutputsAndInputs() {
        Site residual = Site.of(0, SiteKind.BLOCK_RESIDUAL);
        int perRow = 12;
        try (ReadFloorProbe p = new ReadFloorProbe(Set.of(SiteKind.BLOCK_RESIDUAL))) {
            double want = 0;
            for (int i = 0; i < 3; i++) {
                try (PointerScope scope = new PointerScope()) {
                    p.observeResidual(new Step(i, 3, 1000 - i, ROWS), residual,
                            Tensors.fromFloats(values(i, 0, perRow), 2, 3, 4),
                            Tensors.fromFloats(values(i, 1, perRow), 2, 3, 4));
                }
                if (i > 0) {
                    want += sum(values(i - 1, 0, perRow)) + sum(values(i, 0, perRow)) + sum(values(i - 1, 1, perRow))
                            + sum(values(i, 1, perRow));
                }
            }
            assertEquals(2 * 4 * 2 * perRow, p.elementsRead(), "2 comparisons x 4 tensors x 2 rows");
            assertEquals(want, p.checksum(), 1e-4);
        }
    }

    /** Reading the current activation only: every call is read once (the first step too), nothing is held. */
    @Test
    void currentReadsEachActivationOnceAndHoldsNothing() {
        int steps = 3;
        int perRow = 3 * 1021;
        Site residual = Site.of(2, SiteKind.BLOCK_RESIDUAL);
        try (ReadFloorProbe p = new ReadFloorProbe(EnumSet.of(SiteKind.K, SiteKind.BLOCK_OUT,
                SiteKind.BLOCK_RESIDUAL), ReadFloorProbe.Reads.CURRENT)) {
            double want = 0;
            for (int i = 0; i < steps; i++) {
                observe(p, i, steps, K, values(i, 0, perRow), false);
                observe(p, i, steps, OUT, values(i, 1, perRow), true);
                try (PointerScope scope = new PointerScope()) {
                    p.observeResidual(new Step(i, steps, 1000 - i, ROWS), residual,
                            Tensors.fromFloats(values(i, 2, 12), 2, 3, 4), Tensors.fromFloats(values(i, 3, 12), 2, 3,
                                    4));
                }
                want += sum(values(i, 0, perRow)) + sum(values(i, 1, perRow)) + sum(values(i, 2, 12))
                        + sum(values(i, 3, 12));
            }
            assertEquals(steps * (2 * 2 * perRow + 2 * 2 * 12), p.elementsRead(),
                    "3 steps x (2 sites x 2 rows + a residual's output and input x 2 rows)");
            assertEquals(want, p.checksum(), 1e-4 * Math.abs(want) + 1e-2);
            assertTrue(p.held.isEmpty() && p.inputs.isEmpty(), "nothing held");
        }
        assertThrows(NullPointerException.class, () -> new ReadFloorProbe(Set.of(SiteKind.K), null));
    }

    @Test
    void aGapOrAnotherSizeReadsNothingAndOnlyWantedKindsAreAsked() {
        try (ReadFloorProbe p = new ReadFloorProbe(Set.of(SiteKind.K))) {
            assertTrue(p.wants(K));
            assertFalse(p.wants(OUT));
            observe(p, 0, 5, K, values(0, 0, 12), false);
            observe(p, 2, 5, K, values(2, 0, 12), false); // step 1 missing
            observe(p, 3, 5, K, values(3, 0, 18), false); // another size
            assertEquals(0, p.elementsRead());
            observe(p, 4, 5, K, values(4, 0, 18), false);
            assertEquals(2 * 2 * 18, p.elementsRead());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ReadFloorProbe(EnumSet.noneOf(SiteKind.class)));
        assertTrue(e.getMessage().startsWith("kinds is empty"), e.getMessage());
    }
}
