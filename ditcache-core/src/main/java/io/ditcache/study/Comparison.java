package io.ditcache.study;

import io.ditcache.SeriesKey;
import java.util.List;

/**
 * Agreement of one series between two groups that differ in one thing (step count, scheduler or model):
 * one {@link CurveAgreement} per layer and one over the whole layer × step matrix.
 */
public record Comparison(Axis axis, SeriesKey key, GroupKey a, GroupKey b, List<CurveAgreement> layers,
        CurveAgreement overall) {
    /** What the two groups differ in. */
    public enum Axis {
        STEPS, SCHEDULER, MODEL
    }

    public Comparison {
        layers = List.copyOf(layers);
    }
}
