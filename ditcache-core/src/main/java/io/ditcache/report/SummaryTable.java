package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.TokenStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The short terminal summary of a profile: per site kind, the paper's metric (L1_MEAN) on image tokens of the
 * conditional branch, summarised by {@link KindSummary}.
 */
public final class SummaryTable {
    /** The series the summary covers: L1_MEAN, image tokens, conditional branch. */
    public static final DistanceMetric METRIC = DistanceMetric.L1_MEAN;

    private static final String[] HEADER = {
        "kind", "cells", "mean", "min", "max", "max step", "max layer", "most redundant", "least redundant",
        "mean CV"};

    private SummaryTable() {
    }

    /** One row per site kind present with L1_MEAN / IMAGE / COND, in kind order. */
    public static List<KindSummary> rows(RedundancyProfile profile) {
        List<KindSummary> rows = new ArrayList<>();
        for (ProfileSeries s : profile.series()) {
            SeriesKey k = s.key();
            if (k.metric() == METRIC && k.stream() == TokenStream.IMAGE && k.branch() == Branch.COND) {
                rows.add(KindSummary.of(s, profile.samples()));
            }
        }
        return rows;
    }

    /** The cells of one row as text, in {@link #header()} order; mean CV is "-" with fewer than two samples. */
    static String[] cells(KindSummary r) {
        return new String[] {
            ReportText.kind(r.kind()), Integer.toString(r.cells()), ReportText.number(r.mean()),
            ReportText.number(r.min()), ReportText.number(r.max()), index(r.maxStep()), index(r.maxLayer()),
            index(r.mostRedundantLayer()), index(r.leastRedundantLayer()), ReportText.number(r.meanCv())};
    }

    static String[] header() {
        return HEADER.clone();
    }

    /**
     * A plain-text table, one line per kind, under a line naming model, scheduler and shape. Steps count
     * transitions: step i compares call i with call i+1.
     */
    public static String format(RedundancyProfile profile) {
        List<KindSummary> rows = rows(profile);
        List<String[]> lines = new ArrayList<>();
        lines.add(HEADER);
        for (KindSummary r : rows) {
            lines.add(cells(r));
        }
        int[] width = new int[HEADER.length];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                width[i] = Math.max(width[i], line[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s, %s: %d layers x %d steps, %s in %s, %s (image tokens, cond)%n",
                ReportText.modelName(profile), ReportText.schedulerName(profile), profile.layers(), profile.steps(),
                ReportText.count(profile.samples(), "sample"), ReportText.count(profile.runs(), "run"), METRIC));
        if (lines.size() == 1) {
            return out.append("no ").append(METRIC).append(" series for image tokens, cond branch")
                    .append(System.lineSeparator()).toString();
        }
        for (String[] line : lines) {
            StringBuilder row = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                String cell = line[i];
                // Kind left-aligned, numbers right-aligned.
                row.append(pad(cell, width[i], i > 0)).append("  ");
            }
            out.append(row.toString().stripTrailing()).append(System.lineSeparator());
        }
        out.append("most/least redundant: layer with the smallest/largest mean distance over its steps")
                .append(System.lineSeparator());
        int nonFinite = rows.stream().mapToInt(KindSummary::nonFiniteCells).sum();
        if (nonFinite > 0) {
            out.append(nonFinite).append(" cell(s) saw NaN/Inf distances; those observations are not averaged in")
                    .append(System.lineSeparator());
        }
        return out.toString();
    }

    private static String index(int i) {
        return i < 0 ? "-" : Integer.toString(i);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }
}
