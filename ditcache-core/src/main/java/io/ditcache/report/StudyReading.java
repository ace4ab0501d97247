package io.ditcache.report;

import io.ditcache.SiteKind;
import io.ditcache.study.Comparison;
import io.ditcache.study.Study;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.DoubleSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.DoubleStream;

/**
 * The plain-language reading of a study: a few sentences, each with its numbers, on the paper's two claims
 * (stable within a model; different between models).
 */
final class StudyReading {
    private StudyReading() {
    }

    static List<String> lines(Study study) {
        List<String> out = new ArrayList<>();
        Map<io.ditcache.study.GroupKey, double[]> cv = StudySummary.cvTable(study);
        for (int k = 0; k < StudySummary.KINDS.size(); k++) {
            int kk = k;
            DoubleSummaryStatistics s = cv.values().stream().mapToDouble(r -> r[kk]).filter(Double::isFinite)
                    .summaryStatistics();
            if (s.getCount() == 0) {
                continue;
            }
            out.add(String.format(Locale.ROOT, "Prompt stability, %s: across %s the mean per-cell CV is "
                    + "%s to %s over the %d model/scheduler/step-count groups (mean %s): %s.",
                    ReportText.kind(StudySummary.KINDS.get(k)), StudySummary.conditions(study.plan()),
                    StudySummary.num(s.getMin()),
                    StudySummary.num(s.getMax()), s.getCount(), StudySummary.num(s.getAverage()),
                    cvWords(s.getAverage())));
        }
        if (study.plan().shardConditions() < 2) {
            out.add("With one condition there is no spread across conditions, so no CV.");
        }
        if (study.plan().shardConditions() < study.plan().conditions()) {
            out.add("This is shard " + study.plan().shard() + " of the study: it folds "
                    + study.plan().shardConditions() + " of the " + study.plan().conditions() + " conditions. Merge "
                    + "the shards' folders (ditcache merge) for the whole study.");
        }
        within(out, study, Comparison.Axis.STEPS, "step counts");
        within(out, study, Comparison.Axis.SCHEDULER, "schedulers");
        double[] inside = DoubleStream.concat(pearsons(study, Comparison.Axis.STEPS),
                pearsons(study, Comparison.Axis.SCHEDULER)).toArray();
        double[] across = pearsons(study, Comparison.Axis.MODEL).toArray();
        if (across.length > 0) {
            double acrossMean = Arrays.stream(across).average().orElse(Double.NaN);
            String verdict;
            if (inside.length == 0) {
                verdict = "there is no within-model comparison to set it against";
            } else {
                double insideMin = Arrays.stream(inside).min().orElse(Double.NaN);
                verdict = acrossMean < insideMin
                        ? "lower than every within-model agreement (lowest " + StudySummary.num(insideMin)
                                + "): the models' redundancy patterns differ more than one model's do across step "
                                + "counts and schedulers, as the paper finds"
                        : "not below the within-model agreements (lowest " + StudySummary.num(insideMin)
                                + "): at this resolution these models' redundancy patterns are not told apart "
                                + "by their shape";
            }
            out.add("Between models, the overall Pearson r of the normalised K/V/A curves averages "
                    + StudySummary.num(acrossMean) + ", " + verdict + ".");
        }
        return out;
    }

    private static void within(List<String> out, Study study, Comparison.Axis axis, String what) {
        double[] r = pearsons(study, axis).toArray();
        if (r.length == 0) {
            return;
        }
        Comparison worst = null;
        for (Comparison c : StudySummary.headline(study, axis)) {
            if (Double.isFinite(c.overall().pearson()) && (worst == null
                    || c.overall().pearson() < worst.overall().pearson())) {
                worst = c;
            }
        }
        DoubleSummaryStatistics s = Arrays.stream(r).summaryStatistics();
        out.add(String.format(Locale.ROOT, "Across %s, the normalised K/V/A curves agree with overall Pearson r "
                + "from %s to %s (mean %s)%s: %s.", what, StudySummary.num(s.getMin()), StudySummary.num(s.getMax()),
                StudySummary.num(s.getAverage()), worst == null ? "" : "; the least alike: "
                        + StudySummary.pair(study, worst) + " for " + ReportText.kind(worst.key().kind()),
                s.getMin() >= 0.9 ? "the pattern is stable, as the paper finds"
                        : s.getMin() >= 0.7 ? "largely stable, with visible differences in places"
                                : "the pattern changes noticeably, unlike the paper's finding"));
    }

    private static DoubleStream pearsons(Study study, Comparison.Axis axis) {
        return StudySummary.headline(study, axis).stream().mapToDouble(c -> c.overall().pearson())
                .filter(Double::isFinite);
    }

    private static String cvWords(double cv) {
        return cv < 0.1 ? "the per-cell distances barely depend on the condition"
                : cv < 0.3 ? "they depend on the condition only moderately"
                        : "they vary strongly with the condition";
    }

}
