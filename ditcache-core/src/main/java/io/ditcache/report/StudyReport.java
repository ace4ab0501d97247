package io.ditcache.report;

import io.ditcache.Branch;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.io.AtomicFiles;
import io.ditcache.study.Comparison;
import io.ditcache.study.GroupKey;
import io.ditcache.study.Study;
import io.ditcache.study.StudyCodec;
import io.ditcache.study.StudyModel;
import io.ditcache.study.StudyPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A study's page, {@value #PAGE}: settings, a plain-language reading, the prompt-CV table, the step-count,
 * scheduler and model agreement tables and, per model, the per-layer K/V/A curves, the K/V/A heatmaps and the
 * normalised curves of every scheduler and step count ({@link StudyCurves}). PNGs go to {@code figures/}
 * beside the page; the JSON and CSV tables are linked.
 */
public final class StudyReport {
    /** The page's file name. */
    public static final String PAGE = "report.html";

    private StudyReport() {
    }

    /**
     * Writes the page and its figures into {@code dir}.
     *
     * @return the page
     */
    public static Path write(Study study, Path dir) throws IOException {
        ChartLibrary.require("A study report");
        Objects.requireNonNull(study, "study");
        Path figures = dir.resolve("figures");
        Files.createDirectories(figures);
        StudyPlan plan = study.plan();
        StringBuilder h = new StringBuilder(32_768);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Redundancy study")
                .append("</title>\n<style>\n").append(ReportPage.STYLE)
                .append("td.good{background:#e5f5e0}td.fair{background:#fff7bc}td.poor{background:#fde0dd}\n")
                .append("</style>\n</head>\n<body>\n<h1>Redundancy study</h1>\n")
                .append("<p>Does a model repeat itself between denoising steps in the same way whatever it is asked ")
                .append("to draw, however many steps it takes and whichever scheduler runs it? The study of ")
                .append("<em>Unveiling Redundancy in Diffusion Transformers (DiTs)</em> (arXiv 2411.13588), with ")
                .append("a number for each claim. Every run is profiled on its own; the tables below fold ")
                .append(plan.runs().size()).append(" runs (").append(StudySummary.conditions(plan)).append(").</p>\n");

        h.append("<h2>Settings</h2>\n<table>\n");
        for (StudyModel m : plan.models()) {
            ReportPage.row(h, "model " + m.label(), m.identity().get("class_name") + ", weights " + m.fingerprint()
                    + ", " + m.identity().get("layers") + " layers (" + GroupSummary.ranges(GroupSummary.layout(
                            m.identity()), ((Number) m.identity().get("layers")).intValue()).stream()
                            .map(Object::toString).collect(java.util.stream.Collectors.joining(", ")) + "), "
                    + m.identity().get("parameters") + " parameters" + (m.identity().containsKey(StudyModel.PROMPTS)
                            ? ", prompts " + m.identity().get(StudyModel.PROMPTS) : ""));
        }
        ReportPage.row(h, "conditions", StudySummary.conditions(plan) + " (condition c: class c mod classes, or "
                + "prompt c mod prompts of a text model, noise seed c)");
        if (plan.shardConditions() < plan.conditions()) {
            ReportPage.row(h, "shard", plan.shard() + ": the conditions c with c mod " + plan.shard().count() + " = "
                    + (plan.shard().index() - 1) + "; merge the shards' folders for the whole study");
        }
        ReportPage.row(h, "step counts", plan.steps().toString());
        ReportPage.row(h, "schedulers", plan.schedulers().toString());
        ReportPage.row(h, "guidance", Double.toString(plan.guidance()));
        h.append("</table>\n<p>Tables as data: <a href=\"").append(StudyCodec.STUDY).append("\">")
                .append(StudyCodec.STUDY).append("</a>, <a href=\"prompt_cv.csv\">prompt_cv.csv</a>, ")
                .append("<a href=\"step_stability.csv\">step_stability.csv</a>, ")
                .append("<a href=\"scheduler_stability.csv\">scheduler_stability.csv</a>, ")
                .append("<a href=\"model_comparison.csv\">model_comparison.csv</a>; each group's profile under ")
                .append("<code>profiles/</code>.</p>\n");

        h.append("<h2>Reading</h2>\n<ul>\n");
        for (String line : StudyReading.lines(study)) {
            h.append("<li>").append(ReportPage.esc(line)).append("</li>\n");
        }
        h.append("</ul>\n");

        cvTable(h, study);
        for (Comparison.Axis axis : Comparison.Axis.values()) {
            agreementTable(h, study, axis);
        }
        if (plan.models().size() > 1) {
            modelMatrix(h, study);
        }

        groupTable(h, study);

        h.append("<h2>Figures</h2>\n");
        for (int m = 0; m < plan.models().size(); m++) {
            GroupKey g = primary(plan, m);
            RedundancyProfile p = study.profile(g);
            String label = plan.models().get(m).label();
            Path modelDir = figures.resolve(label);
            Files.createDirectories(modelDir);
            List<ReportPage.Figure> figs = new ArrayList<>();
            String rel = "figures/" + label + "/";
            for (SiteKind kind : StudySummary.KINDS) {
                if (StudyCurves.available(study, m, kind)) {
                    Path curves = StudyCurves.write(study, m, kind, modelDir);
                    figs.add(new ReportPage.Figure(rel + curves.getFileName(), label + ": normalised curves of "
                            + ReportText.kind(kind) + ", every scheduler and step count", StudyCurves.caption(kind)));
                }
            }
            if (LayerCurves.available(p, TokenStream.IMAGE, Branch.COND)) {
                Path f = LayerCurves.write(p, TokenStream.IMAGE, Branch.COND, modelDir);
                figs.add(ReportPage.curves(p, TokenStream.IMAGE, Branch.COND, rel + f.getFileName()));
            }
            List<double[][]> matrices = new ArrayList<>();
            StudySummary.KINDS.forEach(kind -> p.series(StudySummary.key(kind))
                    .ifPresent(s -> matrices.add(s.means())));
            ColourScale scale = ColourScale.fit(StudySummary.METRIC, matrices);
            for (SiteKind kind : StudySummary.KINDS) {
                var series = p.series(StudySummary.key(kind));
                if (series.isPresent()) {
                    ProfileSeries s = series.get();
                    Path f = Heatmap.write(p, s, modelDir, scale);
                    figs.add(ReportPage.heatmap(p, s, rel + f.getFileName(), scale));
                }
            }
            h.append("<h3>").append(ReportPage.esc(label)).append(" (").append(g.scheduler()).append(", ")
                    .append(g.steps()).append(" steps)</h3>\n");
            ReportPage.figures(h, figs);
        }
        h.append("<p class=\"note\">Written by ditcache; the numbers are in ").append(StudyCodec.STUDY)
                .append(".</p>\n</body>\n</html>\n");
        Path page = dir.resolve(PAGE);
        AtomicFiles.writeString(page, h.toString());
        return page;
    }

    /** Each model's blocks by group (double/single, joint, plain) with their mean K, V and A distances. */
    private static void groupTable(StringBuilder h, Study study) {
        StudyPlan plan = study.plan();
        h.append("<h2>Blocks by group</h2>\n<p>Each model's blocks in execution order, by the list they sit in ")
                .append("(FLUX: double-stream then single-stream; SD3: joint; DiT and PixArt: plain), with the ")
                .append("mean ").append(StudySummary.METRIC).append(" step-to-step distance of K, V and A over the ")
                .append("group's blocks and every step (image stream, conditional branch, the model's first ")
                .append("scheduler at the most steps). Per-layer curves below run over all blocks in this order.")
                .append("</p>\n");
        List<String> labels = new ArrayList<>();
        List<RedundancyProfile> profiles = new ArrayList<>();
        for (int m = 0; m < plan.models().size(); m++) {
            labels.add(plan.models().get(m).label() + " (" + plan.models().get(m).identity().get("class_name") + ")");
            profiles.add(study.profile(primary(plan, m)));
        }
        GroupSummary.table(h, labels, profiles);
    }

    /** The group whose figures represent a model: the first scheduler at the most steps. */
    static GroupKey primary(StudyPlan plan, int model) {
        int steps = plan.steps().stream().mapToInt(Integer::intValue).max().orElseThrow();
        return new GroupKey(model, plan.schedulers().get(0), steps);
    }

    private static void cvTable(StringBuilder h, Study study) {
        h.append("<h2>Prompt stability: mean per-cell CV</h2>\n<p>For every layer and step, the coefficient of ")
                .append("variation (std/mean) of ").append(StudySummary.METRIC).append(" across the ")
                .append(ReportPage.esc(StudySummary.conditions(study.plan())))
                .append("; the table gives their mean (the paper's ")
                .append("scalar summary), conditional branch. Small values: the redundancy pattern hardly depends ")
                .append("on the condition. Per-cell matrices: <code>cv</code> in ").append(StudyCodec.STUDY)
                .append(", every kind and metric.</p>\n<table>\n<tr><th>model</th><th>scheduler</th>")
                .append("<th>steps</th><th>K</th><th>V</th><th>A</th></tr>\n");
        for (Map.Entry<GroupKey, double[]> e : StudySummary.cvTable(study).entrySet()) {
            GroupKey g = e.getKey();
            h.append("<tr><td>").append(ReportPage.esc(study.modelLabel(g))).append("</td><td>")
                    .append(g.scheduler()).append("</td><td class=\"n\">").append(g.steps()).append("</td>");
            for (double v : e.getValue()) {
                h.append("<td class=\"n\">").append(StudySummary.num(v)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void agreementTable(StringBuilder h, Study study, Comparison.Axis axis) {
        List<Comparison> rows = StudySummary.headline(study, axis);
        String what = switch (axis) {
            case STEPS -> "Step-count stability";
            case SCHEDULER -> "Scheduler stability";
            case MODEL -> "Cross-model comparison";
        };
        h.append("<h2>").append(what).append("</h2>\n");
        if (rows.isEmpty()) {
            h.append("<p class=\"note\">Needs two or more ").append(switch (axis) {
                case STEPS -> "step counts";
                case SCHEDULER -> "schedulers";
                case MODEL -> "models";
            }).append(".</p>\n");
            return;
        }
        h.append("<p>Mean curves of ").append(StudySummary.METRIC).append(" (conditional branch) put on the ")
                .append("normalised step axis u = i/(N-2), resampled onto the coarser grid and divided by their ")
                .append("mean. Overall: the whole layer \u00d7 u matrix divided by its grand mean, cell by cell; ")
                .append("per layer: each layer's curve divided by its own mean, the worst layer shown. ")
                .append("Pearson/Spearman near 1 and small differences mean the same redundancy pattern. Colour: ")
                .append("green r \u2265 0.9, yellow \u2265 0.7, red below. Every kind, metric and layer: ")
                .append(StudyCodec.STUDY).append(".</p>\n<table>\n<tr><th>pair</th><th>kind</th>")
                .append("<th>Pearson</th><th>Spearman</th><th>mean |\u0394|</th><th>max |\u0394|</th>")
                .append("<th>worst layer Pearson</th></tr>\n");
        for (Comparison c : rows) {
            double worst = c.layers().stream().mapToDouble(a -> a.pearson()).filter(Double::isFinite).min()
                    .orElse(Double.NaN);
            int worstLayer = -1;
            for (int l = 0; l < c.layers().size(); l++) {
                if (c.layers().get(l).pearson() == worst) {
                    worstLayer = l;
                }
            }
            h.append("<tr><td>").append(ReportPage.esc(StudySummary.pair(study, c))).append("</td><td>")
                    .append(c.key().kind()).append("</td>").append(rated(c.overall().pearson()))
                    .append(rated(c.overall().spearman())).append("<td class=\"n\">")
                    .append(StudySummary.num(c.overall().meanAbsDiff())).append("</td><td class=\"n\">")
                    .append(StudySummary.num(c.overall().maxAbsDiff())).append("</td>").append(rated(worst));
            h.setLength(h.length() - 5);
            h.append(worstLayer >= 0 ? " (layer " + worstLayer + ")" : "").append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void modelMatrix(StringBuilder h, Study study) {
        StudyPlan plan = study.plan();
        int n = plan.models().size();
        h.append("<h3>Model matrix</h3>\n<p>Overall Pearson r of A (attention output), ")
                .append(StudySummary.METRIC).append(", per scheduler and step count; the diagonal is 1.</p>\n");
        for (String s : plan.schedulers()) {
            for (int steps : plan.steps()) {
                h.append("<table>\n<tr><th>").append(s).append(", ").append(steps).append(" steps</th>");
                for (StudyModel m : plan.models()) {
                    h.append("<th>").append(ReportPage.esc(m.label())).append("</th>");
                }
                h.append("</tr>\n");
                for (int a = 0; a < n; a++) {
                    h.append("<tr><th>").append(ReportPage.esc(plan.models().get(a).label())).append("</th>");
                    for (int b = 0; b < n; b++) {
                        double r = a == b ? 1.0 : study.comparison(Comparison.Axis.MODEL,
                                StudySummary.key(SiteKind.ATTN_OUT), new GroupKey(Math.min(a, b), s, steps),
                                new GroupKey(Math.max(a, b), s, steps)).map(c -> c.overall().pearson())
                                .orElse(Double.NaN);
                        h.append(rated(r));
                    }
                    h.append("</tr>\n");
                }
                h.append("</table>\n");
            }
        }
    }

    private static String rated(double r) {
        String cls = !Double.isFinite(r) ? "n" : r >= 0.9 ? "n good" : r >= 0.7 ? "n fair" : "n poor";
        return "<td class=\"" + cls + "\">" + StudySummary.num(r) + "</td>";
    }
}
