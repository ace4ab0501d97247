package io.ditcache.policy;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.util.Map;
import java.util.function.IntToDoubleFunction;

/** Profiles with known curves, built through the public API. */
final class SyntheticProfiles {
    static final int LAYERS = 3;
    static final int STEPS = 30;
    /** The polynomial the TeaCache series follow, ascending powers. */
    static final double[] POLY = {0.003, 0.8, -2.5, 6.0, -4.0};

    private SyntheticProfiles() {
    }

    static SeriesKey key(SiteKind kind, Branch branch, DistanceMetric metric) {
        return new SeriesKey(kind, TokenStream.IMAGE, branch, metric);
    }

    /** The modulated-input change of column {@code s}: spread over [0.02, 0.5], not monotone. */
    static double x(int s) {
        return 0.02 + 0.48 * Math.pow((double) s / (STEPS - 2), 1.3) + 0.01 * Math.sin(s);
    }

    /** The norm ratio of column {@code s} of one branch: between 0.9 and 1.1. */
    static double ratio(Branch branch, int s) {
        return 1.0 + (branch == Branch.COND ? 0.05 : 0.08) * Math.cos(0.3 * s);
    }

    /**
     * TeaCache's series: x on layer 0, {@code POLY(x)} on the last layer of BLOCK_OUT, with distractors that the
     * fit must ignore (other layers, the UNCOND branch, another metric); MagCache's BLOCK_RESIDUAL norm ratios
     * spread around {@link #ratio} over layers, for COND and, when {@code guided}, UNCOND.
     */
    static RedundancyProfile profile(boolean guided) {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "synthetic"), Map.of("name", "ddim"), LAYERS,
                STEPS);
        for (int s = 0; s < STEPS - 1; s++) {
            double x = x(s);
            p.add(key(SiteKind.MODULATED_INPUT, Branch.COND, DistanceMetric.L1_REL), 0, s, x);
            p.add(key(SiteKind.MODULATED_INPUT, Branch.COND, DistanceMetric.L1_MEAN), 0, s, 7 * x);
            p.add(key(SiteKind.MODULATED_INPUT, Branch.UNCOND, DistanceMetric.L1_REL), 0, s, 3 * x);
            for (int l = 0; l < LAYERS; l++) {
                double y = l == LAYERS - 1 ? PolynomialFit.evaluate(POLY, x) : 0.1 * l + x * x;
                p.add(key(SiteKind.BLOCK_OUT, Branch.COND, DistanceMetric.L1_REL), l, s, y);
                p.add(key(SiteKind.BLOCK_OUT, Branch.UNCOND, DistanceMetric.L1_REL), l, s, 2 * y + 1);
            }
        }
        addRatios(p, Branch.COND, s -> ratio(Branch.COND, s));
        if (guided) {
            addRatios(p, Branch.UNCOND, s -> ratio(Branch.UNCOND, s));
        }
        return p;
    }

    /** Per layer {@code r(s) + 0.01 (l - 1)}, which averages to {@code r(s)} over three layers. */
    static void addRatios(RedundancyProfile p, Branch branch, IntToDoubleFunction r) {
        for (int s = 0; s < p.steps() - 1; s++) {
            for (int l = 0; l < p.layers(); l++) {
                p.add(key(SiteKind.BLOCK_RESIDUAL, branch, DistanceMetric.NORM_RATIO), l, s,
                        r.applyAsDouble(s) + 0.01 * (l - 1));
            }
        }
    }
}
