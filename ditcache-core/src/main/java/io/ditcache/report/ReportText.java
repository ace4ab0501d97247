package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.util.Locale;

/** The words and number formats every part of a report shares, so that a table and a caption never disagree. */
final class ReportText {
    private ReportText() {
    }

    /** The model's {@code "name"}, else its {@code "id"}, else "model". */
    static String modelName(RedundancyProfile profile) {
        Object name = profile.model().get("name");
        if (name == null) {
            name = profile.model().get("id");
        }
        return name == null ? "model" : name.toString();
    }

    /** The scheduler's {@code "name"}, else "scheduler". */
    static String schedulerName(RedundancyProfile profile) {
        Object name = profile.scheduler().get("name");
        return name == null ? "scheduler" : name.toString();
    }

    /** The paper's short names: K, V, A for the attention sites. */
    static String kind(SiteKind kind) {
        return switch (kind) {
            case K -> "K";
            case V -> "V";
            case ATTN_OUT -> "A";
            case MLP_OUT -> "MLP out";
            case BLOCK_OUT -> "block out";
            case BLOCK_RESIDUAL -> "block residual";
            case MODULATED_INPUT -> "modulated input";
        };
    }

    /** What a value of the metric is, for axis and legend titles. */
    static String metric(DistanceMetric metric) {
        return switch (metric) {
            case L1_MEAN -> "L1 mean |b-a|";
            case L1_REL -> "relative L1 sum|b-a|/sum|a|";
            case COSINE -> "cosine distance";
            case NORM_RATIO -> "norm ratio |b|/|a|";
            case FORECAST_L1_REL -> "forecast error sum|b-(2a-p)|/sum|a|";
        };
    }

    static String stream(TokenStream stream) {
        return stream == TokenStream.IMAGE ? "image tokens" : "text tokens";
    }

    static String branch(Branch branch) {
        return branch == Branch.COND ? "conditional branch" : "unconditional branch";
    }

    /** "1 run", "3 runs". */
    static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /** Four significant digits, locale-independent; "-" for NaN. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        String s = v == 0 || (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e5)
                ? String.format(Locale.ROOT, "%.4g", v)
                : String.format(Locale.ROOT, "%.3e", v);
        // Drop trailing zeros after the point: 0.5000 -> 0.5, 5.310e-06 -> 5.31e-06, 1000 stays.
        int e = s.indexOf('e');
        String mantissa = e < 0 ? s : s.substring(0, e);
        if (mantissa.indexOf('.') >= 0) {
            mantissa = mantissa.replaceFirst("0+$", "").replaceFirst("\\.$", "");
        }
        return e < 0 ? mantissa : mantissa + s.substring(e);
    }
}
