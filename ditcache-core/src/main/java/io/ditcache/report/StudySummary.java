package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.study.Comparison;
import io.ditcache.study.GroupKey;
import io.ditcache.study.PromptCv;
import io.ditcache.study.Study;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The terminal form of a study's headline tables: the paper's prompt-CV table (mean per-cell CV of K, V and
 * attention output, L1_MEAN, conditional branch) per model, scheduler and step count, and the overall Pearson /
 * mean |difference| of the step-count, scheduler and model comparisons for the same series.
 */
public final class StudySummary {
    /** The kinds the paper tabulates. */
    public static final List<SiteKind> KINDS = List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT);
    /** The paper's metric. */
    public static final DistanceMetric METRIC = DistanceMetric.L1_MEAN;

    private StudySummary() {
    }

    /** The series a headline table shows for {@code kind}. */
    public static SeriesKey key(SiteKind kind) {
        return new SeriesKey(kind, TokenStream.IMAGE, Branch.COND, METRIC);
    }

    /** Mean CV by group, then kind ({@link #KINDS}); NaN where a group lacks the series. */
    public static Map<GroupKey, double[]> cvTable(Study study) {
        Map<GroupKey, double[]> out = new LinkedHashMap<>();
        for (GroupKey g : study.profiles().keySet()) {
            double[] row = new double[KINDS.size()];
            java.util.Arrays.fill(row, Double.NaN);
            out.put(g, row);
        }
        for (PromptCv p : study.promptCv()) {
            int k = KINDS.indexOf(p.key().kind());
            if (k >= 0 && p.key().equals(key(p.key().kind()))) {
                out.get(p.group())[k] = p.meanCv();
            }
        }
        return out;
    }

    /** The comparisons along {@code axis} of the headline series, in the study's order. */
    public static List<Comparison> headline(Study study, Comparison.Axis axis) {
        List<Comparison> out = new ArrayList<>();
        for (Comparison c : study.comparisons(axis)) {
            if (KINDS.contains(c.key().kind()) && c.key().equals(key(c.key().kind()))) {
                out.add(c);
            }
        }
        return out;
    }

    /** The tables as fixed-width text. */
    public static String format(Study study) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Prompt stability over %s: mean per-cell CV (%s, cond)%n",
                conditions(study.plan()), METRIC));
        b.append(String.format(Locale.ROOT, "%-24s %-8s %6s %8s %8s %8s%n", "model", "sched", "steps", "K", "V",
                "A"));
        cvTable(study).forEach((g, row) -> b.append(String.format(Locale.ROOT, "%-24s %-8s %6d %8s %8s %8s%n",
                clip(study.modelLabel(g)), g.scheduler(), g.steps(), num(row[0]), num(row[1]), num(row[2]))));
        for (Comparison.Axis axis : Comparison.Axis.values()) {
            List<Comparison> rows = headline(study, axis);
            if (rows.isEmpty()) {
                continue;
            }
            b.append(String.format(Locale.ROOT, "%n%s agreement of normalised curves (overall; Pearson / Spearman "
                    + "/ mean |diff| / max |diff|)%n", switch (axis) {
                        case STEPS -> "Step-count";
                        case SCHEDULER -> "Scheduler";
                        case MODEL -> "Model";
                    }));
            for (Comparison c : rows) {
                b.append(String.format(Locale.ROOT, "%-44s %-8s %7s %7s %7s %7s%n", pair(study, c),
                        c.key().kind(), num(c.overall().pearson()), num(c.overall().spearman()),
                        num(c.overall().meanAbsDiff()), num(c.overall().maxAbsDiff())));
            }
        }
        return b.toString();
    }

    /**
     * The conditions a study folded, in words: "4 conditions", or for a shard "2 of 4 conditions (shard 1/2)".
     */
    public static String conditions(io.ditcache.study.StudyPlan plan) {
        int folded = plan.shardConditions();
        String noun = plan.conditions() == 1 ? " condition" : " conditions";
        return folded == plan.conditions() ? plan.conditions() + noun
                : folded + " of " + plan.conditions() + noun + " (shard " + plan.shard() + ")";
    }

    /** What a comparison compares, in a few words. */
    public static String pair(Study study, Comparison c) {
        return switch (c.axis()) {
            case STEPS -> clip(study.modelLabel(c.a())) + " " + c.a().scheduler() + " " + c.a().steps() + " vs "
                    + c.b().steps() + " steps";
            case SCHEDULER -> clip(study.modelLabel(c.a())) + " " + c.a().steps() + " steps " + c.a().scheduler()
                    + " vs " + c.b().scheduler();
            case MODEL -> c.a().scheduler() + " " + c.a().steps() + " steps " + clip(study.modelLabel(c.a()))
                    + " vs " + clip(study.modelLabel(c.b()));
        };
    }

    private static String clip(String s) {
        return s.length() <= 24 ? s : s.substring(0, 21) + "...";
    }

    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "-";
    }
}
