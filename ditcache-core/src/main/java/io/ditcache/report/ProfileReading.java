package io.ditcache.report;

import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The profile page's reading in words, under its first figure: what was sampled, which layers repeat themselves
 * most and least, where in the trajectory the change is largest, and how much the pattern varies across samples.
 * Every figure comes from the profile ({@link StudySummary#METRIC}, image tokens, conditional branch).
 */
final class ProfileReading {
    /** A mean per-cell CV below this reads as "hardly depends on the sample". */
    static final double SMALL_CV = 0.2;

    private ProfileReading() {
    }

    /**
     * The sentences, in reading order.
     *
     * @param sampled what the samples were, in words (classes and seeds, prompts), or empty when not known
     */
    static List<String> lines(RedundancyProfile profile, String sampled) {
        List<String> out = new ArrayList<>();
        Object guidance = profile.scheduler().get("guidance");
        out.add(ReportText.count(profile.samples(), "sample") + (sampled.isBlank() ? "" : " (" + sampled + ")")
                + " in " + ReportText.count(profile.runs(), "sampling run") + ", scheduler "
                + ReportText.schedulerName(profile) + ", " + profile.steps() + " steps (" + (profile.steps() - 1)
                + " step-to-step transitions)" + (guidance == null ? "" : ", guidance " + guidance) + ".");
        List<String> most = new ArrayList<>();
        List<String> least = new ArrayList<>();
        List<String> cvs = new ArrayList<>();
        double largestCv = 0;
        for (SiteKind kind : StudySummary.KINDS) {
            Optional<ProfileSeries> s = profile.series(StudySummary.key(kind));
            if (s.isEmpty()) {
                continue;
            }
            KindSummary k = KindSummary.of(s.get(), profile.samples());
            if (k.cells() == 0) {
                continue;
            }
            most.add(ReportText.kind(kind) + " layer " + k.mostRedundantLayer());
            least.add(ReportText.kind(kind) + " layer " + k.leastRedundantLayer());
            if (Double.isFinite(k.meanCv())) {
                cvs.add(ReportText.kind(kind) + " " + ReportText.number(k.meanCv()));
                largestCv = Math.max(largestCv, k.meanCv());
            }
        }
        if (!most.isEmpty()) {
            out.add("Most redundant (smallest mean " + StudySummary.METRIC + " distance between consecutive steps): "
                    + String.join(", ", most) + ". Least redundant: " + String.join(", ", least) + ".");
        }
        StudyCurves.layerMeanCurve(profile, SiteKind.ATTN_OUT).ifPresent(curve -> trajectory(out, curve));
        if (!cvs.isEmpty()) {
            out.add("Across the " + ReportText.count(profile.samples(), "sample") + ", the mean per-cell CV "
                    + "(std/mean of a cell's distance over samples) is " + String.join(", ", cvs) + ": "
                    + (largestCv < SMALL_CV ? "the pattern hardly depends on what is drawn."
                            : "the pattern depends noticeably on what is drawn.")
                    + " Per-cell CVs: the cv column of profile.csv.");
        } else if (profile.samples() < 2) {
            out.add("One sample, so no spread across samples (CV) can be given; profile more conditions for it.");
        }
        if (profile.hasNonFinite()) {
            out.add("Some distances were NaN or infinite; they are hatched red in the heatmaps and left out of the "
                    + "means.");
        }
        return out;
    }

    /** Where along the trajectory A changes most, and how the first third compares with the last. */
    private static void trajectory(List<String> out, double[] curve) {
        int n = curve.length;
        int max = -1;
        int min = -1;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(curve[i])) {
                continue;
            }
            max = max < 0 || curve[i] > curve[max] ? i : max;
            min = min < 0 || curve[i] < curve[min] ? i : min;
        }
        if (max < 0) {
            return;
        }
        String sentence = "A (attention output), mean over layers: the largest change is at step " + max + " of "
                + n + " (" + where(max, n) + "), the smallest at step " + min + " (" + where(min, n) + ")";
        int third = n / 3;
        double early = mean(curve, 0, third);
        double late = mean(curve, n - third, n);
        if (third > 0 && early > 0 && late > 0 && Double.isFinite(early) && Double.isFinite(late)) {
            boolean earlyMore = early >= late;
            sentence += String.format(java.util.Locale.ROOT, "; the %s third of the steps changes %.1f times as "
                    + "much as the %s third, so a cache finds more to reuse %s", earlyMore ? "first" : "last",
                    earlyMore ? early / late : late / early, earlyMore ? "last" : "first",
                    earlyMore ? "late in sampling" : "early in sampling");
        }
        out.add(sentence + ".");
    }

    private static String where(int i, int n) {
        double u = n == 1 ? 0 : (double) i / (n - 1);
        return u < 1.0 / 3 ? "early" : u > 2.0 / 3 ? "late" : "midway";
    }

    private static double mean(double[] v, int from, int to) {
        double sum = 0;
        int count = 0;
        for (int i = from; i < to; i++) {
            if (Double.isFinite(v[i])) {
                sum += v[i];
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }
}
