package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.util.Map;

/** Synthetic profiles with a known pattern, built through the public API only. */
final class ToyProfiles {
    static final int LAYERS = 6;
    static final int STEPS = 9;
    /** K's only observation at this cell is NaN. */
    static final int NAN_LAYER = 2;
    static final int NAN_STEP = 4;
    /** V never observes this cell. */
    static final int EMPTY_LAYER = 3;
    static final int EMPTY_STEP = 2;

    private ToyProfiles() {
    }

    /**
     * Distance {@code scale * (1 + layer) * 10^(-step / 2)}: grows with layer, falls with step, spans four
     * decades; largest at the last layer and step 0, smallest at layer 0 and the last step. Two runs, the
     * second 10% above the first, on image tokens of both branches for K, V and ATTN_OUT.
     */
    static RedundancyProfile pattern(String name, double scale) {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", name), Map.of("name", "ddim"), LAYERS, STEPS);
        for (int run = 0; run < 2; run++) {
            for (SiteKind kind : new SiteKind[] {SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT}) {
                for (Branch branch : Branch.values()) {
                    SeriesKey key = new SeriesKey(kind, TokenStream.IMAGE, branch, DistanceMetric.L1_MEAN);
                    for (int l = 0; l < LAYERS; l++) {
                        for (int s = 0; s < STEPS - 1; s++) {
                            if (kind == SiteKind.V && l == EMPTY_LAYER && s == EMPTY_STEP) {
                                continue;
                            }
                            double v = value(scale, l, s) * (run == 0 ? 1.0 : 1.1);
                            if (kind == SiteKind.K && l == NAN_LAYER && s == NAN_STEP) {
                                v = Double.NaN;
                            }
                            p.add(key, l, s, v);
                        }
                    }
                }
            }
            p.countRun();
        }
        return p;
    }

    static double value(double scale, int layer, int step) {
        return scale * (1 + layer) * Math.pow(10, -step / 2.0);
    }
}
