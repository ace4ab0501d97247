package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.util.List;
import java.util.Map;

/** The HTML of {@code report.html}: self-contained (inline style, no script), images linked relatively. */
final class ReportPage {
    /** One image of the page. */
    record Figure(String file, String heading, String caption) {
    }

    static final String STYLE = """
            body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1800px;\
            margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}
            h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{margin-top:1.5em}
            table{border-collapse:collapse;margin:.5em 0}
            th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
            td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
            figure{margin:1em 0 2em 0}img{max-width:100%;border:1px solid #ddd}
            figcaption{max-width:70em;color:#444;margin-top:.4em}.note{color:#555}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:0 2em}
            .grid figure{margin:.5em 0 1.5em 0}.grid h3{font-size:1em;margin-top:.5em}
            nav.contents ol{margin:.3em 0}ul.reading li{margin:.3em 0}
            """;

    private ReportPage() {
    }

    static Figure curves(RedundancyProfile profile, TokenStream stream, Branch branch, String file) {
        String caption = "One panel per layer, row by row from layer 0 at the top left. Each panel shows "
                + ReportText.metric(LayerCurves.METRIC) + " between consecutive steps of K (blue), V (orange) "
                + "and A, the attention output (green), against step i (the distance between calls i and i+1). "
                + "The y axis is logarithmic and has the same range in every panel, so panels compare directly. "
                + "Lower means step i+1 repeats step i more closely: more redundancy, more to gain from reuse. "
                + "Gaps are steps without a finite positive value. "
                + (profile.samples() > 1
                        ? "The line is the mean and the shaded band the mean \u00b1 1 standard deviation over "
                                + ReportText.count(profile.samples(), "sample") + "."
                        : "One sample, so no spread over samples is shown.");
        return new Figure(file, "Per-layer curves: " + ReportText.stream(stream) + ", " + ReportText.branch(branch),
                caption);
    }

    static Figure heatmap(RedundancyProfile profile, ProfileSeries series, String file) {
        return heatmap(profile, series, file,
                ColourScale.fit(series.key().metric(), List.<double[][]>of(series.means())));
    }

    static Figure heatmap(RedundancyProfile profile, ProfileSeries series, String file, ColourScale scale) {
        SeriesKey key = series.key();
        KindSummary summary = KindSummary.of(series, profile.samples());
        int[] span = Heatmap.layerSpan(series);
        int shown = span[1] - span[0] + 1;
        StringBuilder caption = new StringBuilder();
        caption.append(describe(key.kind())).append(", ").append(ReportText.metric(key.metric())).append(", ")
                .append(ReportText.stream(key.stream())).append(", ").append(ReportText.branch(key.branch()))
                .append(". Each cell is the mean over ").append(ReportText.count(profile.samples(), "sample"))
                .append(" of the distance between calls i and i+1 (x) at one layer (y, block 0 at the top). ");
        if (shown < series.layers()) {
            caption.append(span[0] == span[1] ? "Only layer " + span[0] + " has" : "Only layers " + span[0] + "-"
                    + span[1] + " have").append(" this site, so only ").append(shown == 1 ? "it is" : "they are")
                    .append(" drawn. ");
        }
        if (scale.isDiverging()) {
            caption.append("Colour scale: diverging, centred on 1 (white, the black line on the legend): blue below "
                    + "1 (the activation shrinks from step to step), red above (it grows); the same scale for every ")
                    .append(key.metric()).append(" heatmap on this page. ");
        } else {
            caption.append("Colour scale: viridis, ").append(scale.describe()).append(", the same for every ")
                    .append(key.metric()).append(" heatmap on this page, dark purple = smallest, yellow = largest; ");
        }
        caption.append(reading(key.metric())).append(' ');
        if (summary.cells() > 0) {
            caption.append("Values range from ").append(ReportText.number(summary.min())).append(" to ")
                    .append(ReportText.number(summary.max())).append(" (at layer ").append(summary.maxLayer())
                    .append(", step ").append(summary.maxStep()).append("). ");
        }
        if (Double.isFinite(summary.meanCv())) {
            caption.append("Mean per-cell CV over the samples: ").append(ReportText.number(summary.meanCv()))
                    .append(". ");
        }
        int empty = 0;
        for (int l = span[0]; l <= span[1]; l++) {
            for (int t = 0; t < series.steps(); t++) {
                empty += series.count(l, t) == 0 && series.nonFinite(l, t) == 0 ? 1 : 0;
            }
        }
        if (empty > 0) {
            caption.append("Grey: ").append(empty).append(" cell(s) without a finite observation. ");
        }
        if (summary.nonFiniteCells() > 0) {
            caption.append("Red hatching: ").append(summary.nonFiniteCells())
                    .append(" cell(s) that saw NaN or infinite distances, which are not averaged in. ");
        }
        return new Figure(file, ReportText.kind(key.kind()) + " - " + key.metric() + ", " + key.stream() + ", "
                + key.branch(), caption.toString().strip());
    }

    /**
     * The page: the first per-layer curves figure and a reading in words, a contents list, then settings,
     * summary, groups, the other curves and the heatmaps by metric.
     *
     * @param sampled  what the samples were, in words, or empty
     * @param heatmaps heatmap figures by metric, in page order
     */
    static String html(RedundancyProfile profile, String sampled, List<Figure> curves,
            Map<DistanceMetric, List<Figure>> heatmaps) {
        String model = ReportText.modelName(profile);
        StringBuilder h = new StringBuilder(16384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(esc("Redundancy report: " + model)).append("</title>\n<style>\n").append(STYLE)
                .append("</style>\n</head>\n<body>\n<h1>").append(esc("Redundancy report: " + model))
                .append("</h1>\n<p>How much each layer of the model repeats itself from one denoising step to the ")
                .append("next, measured as distances between the activations of consecutive steps (method of ")
                .append("<em>Unveiling Redundancy in Diffusion Transformers (DiTs): A Systematic Study</em>, ")
                .append("arXiv 2411.13588). Step i compares call i with call i+1, so an N-step run has N-1 ")
                .append("steps here. Small distances mark work a cache could reuse.</p>\n");

        if (!curves.isEmpty()) {
            figure(h, curves.get(0), "top");
        }
        h.append("<h2 id=\"reading\">Reading</h2>\n<ul class=\"reading\">\n");
        for (String line : ProfileReading.lines(profile, sampled)) {
            h.append("<li>").append(esc(line)).append("</li>\n");
        }
        h.append("</ul>\n");

        h.append("<nav class=\"contents\">\n<h2 id=\"contents\">Contents</h2>\n<ol>\n");
        if (!curves.isEmpty()) {
            contentsItem(h, "top", curves.get(0).heading() + " (above)");
        }
        contentsItem(h, "reading", "Reading");
        contentsItem(h, "settings", "Settings");
        contentsItem(h, "summary", "Summary");
        contentsItem(h, "groups", "Blocks by group");
        contentsItem(h, "curves", "Per-layer curves (" + curves.size() + ")");
        int count = heatmaps.values().stream().mapToInt(List::size).sum();
        h.append("<li><a href=\"#heatmaps\">Heatmaps, layer \u00d7 step (").append(count).append(")</a>");
        if (!heatmaps.isEmpty()) {
            h.append("\n<ol>\n");
            heatmaps.forEach((metric, figs) -> contentsItem(h, "heatmaps-" + metric, metric + ", "
                    + ReportText.metric(metric) + " (" + figs.size() + ")"));
            h.append("</ol>\n");
        }
        h.append("</li>\n</ol>\n</nav>\n");

        h.append("<h2 id=\"settings\">Settings</h2>\n<table>\n");
        settings(h, "model", profile.model());
        settings(h, "scheduler", profile.scheduler());
        row(h, "layers", Integer.toString(profile.layers()));
        row(h, "sampling steps N", profile.steps() + " (" + (profile.steps() - 1) + " transitions)");
        row(h, "samples", profile.samples() + (sampled.isBlank() ? "" : " (" + sampled + ")"));
        row(h, "sampling runs", profile.runs() + " (samples of one run are drawn side by side)");
        row(h, "series", Integer.toString(profile.series().size()));
        row(h, "non-finite distances", profile.hasNonFinite() ? "yes (marked in the heatmaps)" : "none");
        h.append("</table>\n");

        h.append("<h2 id=\"summary\">Summary</h2>\n");
        List<KindSummary> rows = SummaryTable.rows(profile);
        if (rows.isEmpty()) {
            h.append("<p class=\"note\">No ").append(SummaryTable.METRIC)
                    .append(" series of image tokens, conditional branch.</p>\n");
        } else {
            h.append("<p>").append(SummaryTable.METRIC).append(" (").append(esc(ReportText.metric(SummaryTable.METRIC)))
                    .append("), image tokens, conditional branch, over all layers and steps. Most / least ")
                    .append("redundant: the layer with the smallest / largest mean distance over its steps. ")
                    .append("Mean CV: the mean over cells of std/mean across the ")
                    .append(ReportText.count(profile.samples(), "sample"))
                    .append(" (needs two or more); every cell's CV is in the cv column of profile.csv.</p>\n")
                    .append("<table class=\"summary\">\n<tr>");
            for (String c : SummaryTable.header()) {
                h.append("<th>").append(esc(c)).append("</th>");
            }
            h.append("</tr>\n");
            for (KindSummary r : rows) {
                String[] cells = SummaryTable.cells(r);
                h.append("<tr><td>").append(esc(cells[0])).append("</td>");
                for (int i = 1; i < cells.length; i++) {
                    h.append("<td class=\"n\">").append(esc(cells[i])).append("</td>");
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
        }

        h.append("<h2 id=\"groups\">Blocks by group</h2>\n<p>The layers in execution order by the block list they ")
                .append("sit in, with the mean ").append(StudySummary.METRIC).append(" distance of K, V and A over ")
                .append("the group's layers and every step (image tokens, conditional branch); the per-layer ")
                .append("curves run over the layers in this order.</p>\n");
        GroupSummary.table(h, model, profile);

        h.append("<h2 id=\"curves\">Per-layer curves</h2>\n");
        if (curves.isEmpty()) {
            h.append("<p class=\"note\">No ").append(LayerCurves.METRIC).append(" series of K, V or A.</p>\n");
        } else {
            h.append("<p>").append(esc(curves.get(0).heading())).append(": <a href=\"#top\">at the top</a>.")
                    .append(curves.size() > 1 ? " The other streams and branches:" : "").append("</p>\n");
            figures(h, curves.subList(1, curves.size()));
        }
        h.append("<h2 id=\"heatmaps\">Heatmaps (layer \u00d7 step)</h2>\n");
        if (heatmaps.isEmpty()) {
            h.append("<p class=\"note\">The profile has no series.</p>\n");
        }
        heatmaps.forEach((metric, figs) -> {
            h.append("<h3 id=\"heatmaps-").append(metric).append("\">").append(metric).append(": ")
                    .append(esc(ReportText.metric(metric))).append("</h3>\n<div class=\"grid\">\n");
            figures(h, figs);
            h.append("</div>\n");
        });
        h.append("<p class=\"note\">Written by ditcache from a profile in format ").append(RedundancyProfile.FORMAT)
                .append(".</p>\n</body>\n</html>\n");
        return h.toString();
    }

    private static void contentsItem(StringBuilder h, String id, String text) {
        h.append("<li><a href=\"#").append(esc(id)).append("\">").append(esc(text)).append("</a></li>\n");
    }

    /** One figure with an anchor. */
    private static void figure(StringBuilder h, Figure f, String id) {
        h.append("<figure id=\"").append(esc(id)).append("\">\n<h3>").append(esc(f.heading()))
                .append("</h3>\n<a href=\"").append(esc(f.file())).append("\"><img src=\"").append(esc(f.file()))
                .append("\" alt=\"").append(esc(f.heading())).append("\"></a>\n<figcaption>").append(esc(f.caption()))
                .append("</figcaption>\n</figure>\n");
    }

    /** The anchor of a figure: its file name without extension. */
    static String anchor(Figure f) {
        String name = f.file().substring(f.file().lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name).replaceAll("[^A-Za-z0-9_-]", "-");
    }

    static void figures(StringBuilder h, List<Figure> figures) {
        for (Figure f : figures) {
            figure(h, f, anchor(f));
        }
    }

    private static void settings(StringBuilder h, String what, Map<String, Object> values) {
        if (values.isEmpty()) {
            row(h, what, "(not recorded)");
        }
        for (Map.Entry<String, Object> e : values.entrySet()) {
            row(h, what + "." + e.getKey(), String.valueOf(e.getValue()));
        }
    }

    static void row(StringBuilder h, String name, String value) {
        h.append("<tr><th>").append(esc(name)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
    }

    private static String describe(SiteKind kind) {
        return switch (kind) {
            case K -> "K (key projection)";
            case V -> "V (value projection)";
            case ATTN_OUT -> "A (attention output)";
            default -> ReportText.kind(kind);
        };
    }

    private static String reading(DistanceMetric metric) {
        return switch (metric) {
            case L1_MEAN, L1_REL, COSINE -> "smaller means more redundant (more reusable).";
            case FORECAST_L1_REL -> "smaller means a first-order forecast from the two previous steps is closer.";
            case NORM_RATIO -> "values near 1 mean the activation's magnitude barely changes.";
        };
    }

    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
