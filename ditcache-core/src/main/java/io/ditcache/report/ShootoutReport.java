package io.ditcache.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.ditcache.bench.Bootstrap;
import io.ditcache.bench.SampleFidelity;
import io.ditcache.bench.Shootout;
import io.ditcache.bench.ShootoutRow;
import io.ditcache.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A shootout's files: {@value #CSV} (columns {@code policy,params,speedup,skipped_fraction,psnr,ssim,
 * max_abs_err,class_accuracy,fd,speedup_min,speedup_median,speedup_max,timed_pairs,speedup_ceiling,note}: the
 * spread of the single timed pairs' speedups, the most the skipped share allows, and {@value
 * io.ditcache.bench.ShootoutRow#NOISE_NOTE} where the speedup stayed above it; then the per-sample figures
 * {@code psnr_median,psnr_p10,class_changed} and the bootstrap intervals {@code psnr_lo,psnr_hi,psnr_median_lo,
 * psnr_median_hi,psnr_p10_lo,psnr_p10_hi,ssim_lo,ssim_hi,class_changed_lo,class_changed_hi}), {@value #JSON}
 * (settings, machine load, uncached quality, every row with its spread, per-sample figures and cache stats),
 * {@value #PARETO} (measured speedup against the median per-sample PSNR, one line per policy, the Pareto front in
 * black; noise rows left out) and {@value #PAGE}; and the table as text for the terminal.
 */
public final class ShootoutReport {
    public static final String CSV = "shootout.csv";
    public static final String JSON = "shootout.json";
    public static final String PARETO = "pareto.png";
    public static final String PAGE = "report.html";
    /** The first line of {@value #CSV}. */
    public static final String CSV_HEADER = "policy,params,speedup,skipped_fraction,psnr,ssim,max_abs_err,"
            + "class_accuracy,fd,speedup_min,speedup_median,speedup_max,timed_pairs,speedup_ceiling,note,"
            + "psnr_median,psnr_p10,class_changed,psnr_lo,psnr_hi,psnr_median_lo,psnr_median_hi,psnr_p10_lo,"
            + "psnr_p10_hi,ssim_lo,ssim_hi,class_changed_lo,class_changed_hi";
    /** The columns {@value #CSV} adds when the rows have fidelity on decoded pictures. */
    public static final String PIXEL_COLUMNS = ",pixel_psnr,pixel_ssim";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ShootoutReport() {
    }

    /** Writes every file into {@code dir}; returns the page. */
    public static Path write(Shootout.Result result, Path dir) throws IOException {
        ChartLibrary.require("A shootout report");
        Files.createDirectories(dir);
        boolean pixels = pixels(result);
        StringBuilder csv = new StringBuilder(CSV_HEADER + (pixels ? PIXEL_COLUMNS : "") + "\n");
        for (ShootoutRow r : result.rows()) {
            csv.append(String.join(",", quote(r.policy()), quote(r.params()), num(r.speedup()),
                    num(r.skippedFraction()), num(r.psnr()), num(r.ssim()), num(r.maxAbsErr()),
                    num(r.classAccuracy()), num(r.fd()), num(r.spread().min()), num(r.spread().median()),
                    num(r.spread().max()), Integer.toString(r.spread().pairs()), num(r.speedupCeiling()),
                    quote(r.note()), num(r.psnrMedian()), num(r.psnrP10()), num(r.classChanged()),
                    interval(r.perSample().psnrInterval()), interval(r.perSample().psnrMedianInterval()),
                    interval(r.perSample().psnrP10Interval()), interval(r.perSample().ssimInterval()),
                    interval(r.perSample().classChangedInterval())));
            if (pixels) {
                csv.append(',').append(r.pixels() == null ? "" : num(r.pixels().psnr())).append(',')
                        .append(r.pixels() == null ? "" : num(r.pixels().ssim()));
            }
            csv.append('\n');
        }
        AtomicFiles.writeString(dir.resolve(CSV), csv.toString());
        AtomicFiles.writeString(dir.resolve(JSON), MAPPER.writeValueAsString(json(result)));
        ParetoChart.write(result, dir.resolve(PARETO));
        Path page = dir.resolve(PAGE);
        AtomicFiles.writeString(page, html(result));
        return page;
    }

    /** Whether any row has fidelity on decoded pictures. */
    private static boolean pixels(Shootout.Result result) {
        return result.rows().stream().anyMatch(r -> r.pixels() != null);
    }

    /** The table as fixed-width text, best speedup first within each policy's order as given. */
    public static String format(Shootout.Result result) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "uncached: %.3f s per run, %s%n", result.baselineSeconds(),
                result.fidelity() == Shootout.Fidelity.LATENTS ? "fidelity on the final latents (PSNR/SSIM "
                        + "with the uncached latents' range); class accuracy and FD do not apply to latents"
                        : Double.isNaN(result.baselineClassAccuracy()) && Double.isNaN(result.baselineFd())
                        ? "class accuracy and FD not measured (no digit classifier for this model's samples)"
                        : "class accuracy " + num(result.baselineClassAccuracy()) + ", FD " + num(result.baselineFd())));
        b.append(String.format(Locale.ROOT, "%-16s %-34s %7s %13s %7s %7s %19s %7s %7s %6s %7s %6s %7s%n",
                "policy", "params", "speedup", "pairs min-max", "skipped", "PSNR", "PSNR median [95%]", "p10",
                "changed", "SSIM", "maxerr", "acc", "FD"));
        for (ShootoutRow r : result.rows()) {
            b.append(String.format(Locale.ROOT, "%-16s %-34s %6.2fx %13s %6.1f%% %7s %19s %7s %7s %6.4f %7.4f %6s "
                    + "%7s%s%n", r.policy(), r.params().length() > 34 ? r.params().substring(0, 31) + "..."
                            : r.params(), r.speedup(), spread(r), 100 * r.skippedFraction(), db(r.psnr()),
                    db(r.psnrMedian()) + " " + dbInterval(r.perSample().psnrMedianInterval()), db(r.psnrP10()),
                    Double.isNaN(r.classChanged()) ? "-" : String.format(Locale.ROOT, "%.1f%%",
                            100 * r.classChanged()), r.ssim(), r.maxAbsErr(),
                    Double.isFinite(r.classAccuracy()) ? String.format(Locale.ROOT, "%.3f", r.classAccuracy())
                            : "-", fmt(r.fd()), r.noise() ? "  " + noiseNote(r) : ""));
        }
        if (pixels(result)) {
            b.append("decoded pictures (the pipeline's VAE; PSNR over all pixels, data range 2):\n");
            for (ShootoutRow r : result.rows()) {
                if (r.pixels() != null) {
                    b.append(String.format(Locale.ROOT, "  %-16s %-34s PSNR %7s  SSIM %s%n", r.policy(),
                            r.params().length() > 34 ? r.params().substring(0, 31) + "..." : r.params(),
                            Double.isInfinite(r.pixels().psnr()) ? "inf" : String.format(Locale.ROOT, "%.2f",
                                    r.pixels().psnr()), Double.isFinite(r.pixels().ssim())
                                    ? String.format(Locale.ROOT, "%.4f", r.pixels().ssim()) : "-"));
                }
            }
        }
        b.append("machine: ").append(result.load().describe()).append('\n');
        return b.toString();
    }

    /** A PSNR for a table: two decimals, "inf" for identical, "-" for none. */
    private static String db(double v) {
        return Double.isInfinite(v) ? "inf" : Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    /** "[29.1,31.0]", or empty without an interval. */
    private static String dbInterval(Bootstrap.Interval i) {
        return Double.isNaN(i.lo()) ? "" : "[" + db(i.lo()) + "," + db(i.hi()) + "]";
    }

    /** "3.0% [1.0%,6.0%]", or "-" without a classifier. */
    private static String share(double v, Bootstrap.Interval i) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%% [%.1f%%,%.1f%%]", 100 * v, 100 * i.lo(),
                100 * i.hi());
    }

    /** Per pair, "1.91-2.08x" (or the one pair's speedup). */
    private static String spread(ShootoutRow r) {
        ShootoutRow.Spread s = r.spread();
        return s.pairs() <= 1 ? String.format(Locale.ROOT, "%.2fx", s.median())
                : String.format(Locale.ROOT, "%.2f-%.2fx", s.min(), s.max());
    }

    /** The note of a noise row, with the ceiling it broke. */
    private static String noiseNote(ShootoutRow r) {
        return String.format(Locale.ROOT, "%s (%.2fx measured, at most %.2fx for %.1f%% skipped, %d pairs)",
                ShootoutRow.NOISE_NOTE, r.speedup(), r.speedupCeiling(), 100 * r.skippedFraction(),
                r.spread().pairs());
    }

    /**
     * The policies' rows that no other row beats in both speedup and median per-sample PSNR
     * ({@link ShootoutRow#rankingPsnr()}); rows flagged as noise take no part (their speedup is not the cache's
     * doing).
     */
    public static List<ShootoutRow> paretoFront(List<ShootoutRow> all) {
        List<ShootoutRow> rows = all.stream().filter(r -> !r.noise()).toList();
        List<ShootoutRow> front = new ArrayList<>();
        for (ShootoutRow r : rows) {
            boolean dominated = false;
            for (ShootoutRow o : rows) {
                if (o != r && o.speedup() >= r.speedup() && o.rankingPsnr() >= r.rankingPsnr()
                        && (o.speedup() > r.speedup() || o.rankingPsnr() > r.rankingPsnr())) {
                    dominated = true;
                    break;
                }
            }
            if (!dominated) {
                front.add(r);
            }
        }
        front.sort(Comparator.comparingDouble(ShootoutRow::speedup));
        return front;
    }

    private static Map<String, Object> json(Shootout.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "ditcache-shootout/1");
        m.put("settings", r.settings());
        m.put("scheduler", r.scheduler());
        if (r.fidelity() == Shootout.Fidelity.LATENTS) {
            // only where it applies: the digit model's files stay as they were
            m.put("fidelity", "latents");
            m.put("note", LATENT_NOTE);
        }
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", r.load().cores());
        machine.put("load_average_start", finite(r.load().start()));
        machine.put("load_average_max", finite(r.load().max()));
        machine.put("load_average_end", finite(r.load().end()));
        machine.put("busy", r.load().busy());
        m.put("machine", machine);
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("seconds", r.baselineSeconds());
        base.put("class_accuracy", finite(r.baselineClassAccuracy()));
        base.put("fd", finite(r.baselineFd()));
        m.put("uncached", base);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ShootoutRow row : r.rows()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("policy", row.policy());
            x.put("params", row.params());
            x.put("speedup", row.speedup());
            Map<String, Object> spread = new LinkedHashMap<>();
            spread.put("min", finite(row.spread().min()));
            spread.put("median", finite(row.spread().median()));
            spread.put("max", finite(row.spread().max()));
            spread.put("pairs", row.spread().pairs());
            x.put("speedup_spread", spread);
            x.put("speedup_ceiling", Double.isInfinite(row.speedupCeiling()) ? "inf" : row.speedupCeiling());
            x.put("noise", row.noise());
            x.put("note", row.note());
            x.put("skipped_fraction", row.skippedFraction());
            x.put("psnr", Double.isInfinite(row.psnr()) ? "inf" : finite(row.psnr()));
            SampleFidelity f = row.perSample();
            Map<String, Object> ps = new LinkedHashMap<>();
            ps.put("samples", f.samples());
            ps.put("psnr_interval", json(f.psnrInterval()));
            ps.put("psnr_median", jsonNumber(f.psnrMedian()));
            ps.put("psnr_median_interval", json(f.psnrMedianInterval()));
            ps.put("psnr_p10", jsonNumber(f.psnrP10()));
            ps.put("psnr_p10_interval", json(f.psnrP10Interval()));
            ps.put("ssim", finite(f.ssim()));
            ps.put("ssim_interval", json(f.ssimInterval()));
            ps.put("class_changed", finite(f.classChanged()));
            ps.put("class_changed_interval", json(f.classChangedInterval()));
            ps.put("bootstrap", Map.of("resamples", Bootstrap.RESAMPLES, "level", Bootstrap.LEVEL, "seed",
                    Bootstrap.SEED));
            x.put("per_sample", ps);
            x.put("ssim", finite(row.ssim()));
            x.put("max_abs_err", row.maxAbsErr());
            x.put("class_accuracy", finite(row.classAccuracy()));
            x.put("fd", finite(row.fd()));
            if (row.pixels() != null) {
                x.put("pixel_psnr", Double.isInfinite(row.pixels().psnr()) ? "inf" : finite(row.pixels().psnr()));
                x.put("pixel_ssim", finite(row.pixels().ssim()));
            }
            x.put("seconds", row.seconds());
            x.put("baseline_seconds", row.baselineSeconds());
            x.put("cache", row.cache());
            rows.add(x);
        }
        m.put("rows", rows);
        return m;
    }

    private static final String IMAGE_NOTE = "Fidelity: PSNR (over all pixels, data range 2; and per sample: the "
            + "median and the 10th percentile over samples, which a few samples that change shape cannot dominate), "
            + "SSIM and largest pixel error of the cached samples against the uncached ones, and the share of "
            + "samples the digit classifier puts in another class than their uncached sample; brackets: 95% "
            + "bootstrap intervals over samples (" + Bootstrap.RESAMPLES + " resamples, seeded). Quality: class "
            + "accuracy and Fréchet distance of the cached samples (digit classifier).";
    /** Said where class accuracy and FD do not apply: the samples are a latent model's latents. */
    static final String LATENT_NOTE = "Fidelity: PSNR (over all latent values, data range that of the uncached "
            + "latents), SSIM and largest error of the cached final latents against the uncached ones (no decoder "
            + "here). Class accuracy and FD are for the MNIST digit model; they do not apply to latents and are left "
            + "empty.";

    private static String html(Shootout.Result r) {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Cache policy shootout")
                .append("</title>\n<style>\n").append(ReportPage.STYLE).append("</style>\n</head>\n<body>\n")
                .append("<h1>Cache policy shootout</h1>\n<p>Every policy samples the same conditions from the same ")
                .append("seeds as uncached sampling. Speedup: median wall time of uncached runs over that of ")
                .append("cached runs, interleaved in one process after a warm-up. ")
                .append(r.fidelity() == Shootout.Fidelity.LATENTS ? LATENT_NOTE : IMAGE_NOTE)
                .append(" Data: <a href=\"").append(CSV).append("\">").append(CSV)
                .append("</a>, <a href=\"").append(JSON).append("\">").append(JSON).append("</a>.</p>\n");
        h.append(String.format(Locale.ROOT, "<p>Uncached: %.3f s per run; class accuracy %s; FD %s.</p>%n",
                r.baselineSeconds(), num(r.baselineClassAccuracy()), fmt(r.baselineFd())));
        h.append("<p").append(r.load().busy() ? " style=\"color:#a40000\"" : "").append(">Machine: ")
                .append(ReportPage.esc(r.load().describe())).append(".</p>\n");
        List<ShootoutRow> noise = r.noiseRows();
        if (!noise.isEmpty()) {
            h.append("<p style=\"color:#a40000\">").append(noise.size()).append(noise.size() == 1 ? " row" : " rows")
                    .append(" measured a speedup above what its skipped share allows (at most 1 / (1 - skipped), ")
                    .append("less where the rest of a step takes time) even after re-measuring: marked ")
                    .append(ReportPage.esc(ShootoutRow.NOISE_NOTE)).append(", left off the Pareto front and out ")
                    .append("of the chart. Run again on a quiet machine or with more --repeats.</p>\n");
        }
        h.append("<figure><img src=\"").append(PARETO).append("\" alt=\"speedup against median per-sample PSNR\">")
                .append("</figure>\n");
        h.append("<table>\n<tr><th>policy</th><th>params</th><th>speedup</th><th>pairs: min / median / max</th>")
                .append("<th>skipped</th><th>ceiling</th><th>PSNR (dB)</th><th>PSNR median [95%] (dB)</th>")
                .append("<th>PSNR p10 [95%]</th><th>SSIM</th><th>max abs err</th><th>class acc.</th>")
                .append("<th>class changed [95%]</th><th>FD</th><th>note</th></tr>\n");
        List<ShootoutRow> front = paretoFront(r.rows());
        for (ShootoutRow row : r.rows()) {
            h.append(front.contains(row) ? "<tr style=\"font-weight:bold\">" : row.noise()
                    ? "<tr class=\"noise\" style=\"color:#888;font-style:italic\">" : "<tr>").append("<td>")
                    .append(ReportPage.esc(row.policy())).append("</td><td>").append(ReportPage.esc(row.params()))
                    .append("</td>").append(String.format(Locale.ROOT, "<td class=\"n\">%.2fx</td><td class=\"n\">"
                            + "%.2f / %.2f / %.2f (%d)</td><td class=\"n\">%.1f%%</td><td class=\"n\">%s</td>"
                            + "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                            + "<td class=\"n\">%.4f</td><td class=\"n\">%.4f</td>"
                            + "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td>"
                            + "</tr>%n", row.speedup(),
                            row.spread().min(), row.spread().median(), row.spread().max(), row.spread().pairs(),
                            100 * row.skippedFraction(), Double.isInfinite(row.speedupCeiling()) ? "-"
                                    : String.format(Locale.ROOT, "%.2fx", row.speedupCeiling()),
                            Double.isInfinite(row.psnr()) ? "identical"
                                    : String.format(Locale.ROOT, "%.2f", row.psnr()),
                            db(row.psnrMedian()) + " " + dbInterval(row.perSample().psnrMedianInterval()),
                            db(row.psnrP10()) + " " + dbInterval(row.perSample().psnrP10Interval()), row.ssim(),
                            row.maxAbsErr(), num(row.classAccuracy()), share(row.classChanged(),
                                    row.perSample().classChangedInterval()), fmt(row.fd()),
                            ReportPage.esc(row.note())));
        }
        h.append("</table>\n<p class=\"note\">Bold: on the Pareto front (no other row is both faster and more ")
                .append("faithful). Pairs: the speedups of the single timed pairs (an uncached and a cached run back ")
                .append("to back), and how many. Ceiling: the most skipping that share of block evaluations can give, ")
                .append("1 / (1 - skipped).</p>\n");
        if (pixels(r)) {
            h.append("<h2>Decoded pictures</h2>\n<p>The final latents of each policy's measured run and of the ")
                    .append("uncached run, decoded by the pipeline's VAE and clamped to [-1, 1], as cache-dit judges ")
                    .append("caches: PSNR over all pixels (data range 2) and mean SSIM.</p>\n<table>\n<tr>")
                    .append("<th>policy</th><th>params</th><th>PSNR (dB)</th><th>SSIM</th></tr>\n");
            for (ShootoutRow row : r.rows()) {
                if (row.pixels() != null) {
                    h.append("<tr><td>").append(ReportPage.esc(row.policy())).append("</td><td>")
                            .append(ReportPage.esc(row.params())).append("</td><td class=\"n\">")
                            .append(Double.isInfinite(row.pixels().psnr()) ? "identical"
                                    : String.format(Locale.ROOT, "%.2f", row.pixels().psnr()))
                            .append("</td><td class=\"n\">").append(fmt4(row.pixels().ssim())).append("</td></tr>\n");
                }
            }
            h.append("</table>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static String fmt4(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
    }

    /** An interval as two CSV cells. */
    private static String interval(Bootstrap.Interval i) {
        return num(i.lo()) + "," + num(i.hi());
    }

    /** An interval for JSON: {@code [lo, hi]} ("inf" for an infinite end), or null where none was measured. */
    private static Object json(Bootstrap.Interval i) {
        if (Double.isNaN(i.lo()) && Double.isNaN(i.hi())) {
            return null;
        }
        return java.util.Arrays.asList(jsonNumber(i.lo()), jsonNumber(i.hi()));
    }

    private static Object jsonNumber(double v) {
        return Double.isInfinite(v) ? v > 0 ? "inf" : "-inf" : finite(v);
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : Double.isInfinite(v) ? "inf" : "";
    }

    private static String fmt(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-";
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
