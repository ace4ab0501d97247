package io.ditcache.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
 * max_abs_err,class_accuracy,fd}), {@value #JSON} (settings, uncached quality, every row with its cache stats),
 * {@value #PARETO} (measured speedup against PSNR, one line per policy, the Pareto front in black) and
 * {@value #PAGE}; and the table as text for the terminal.
 */
public final class ShootoutReport {
    public static final String CSV = "shootout.csv";
    public static final String JSON = "shootout.json";
    public static final String PARETO = "pareto.png";
    public static final String PAGE = "report.html";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ShootoutReport() {
    }

    /** Writes every file into {@code dir}; returns the page. */
    public static Path write(Shootout.Result result, Path dir) throws IOException {
        ChartLibrary.require("A shootout report");
        Files.createDirectories(dir);
        StringBuilder csv = new StringBuilder("policy,params,speedup,skipped_fraction,psnr,ssim,max_abs_err,"
                + "class_accuracy,fd\n");
        for (ShootoutRow r : result.rows()) {
            csv.append(String.join(",", quote(r.policy()), quote(r.params()), num(r.speedup()),
                    num(r.skippedFraction()), num(r.psnr()), num(r.ssim()), num(r.maxAbsErr()),
                    num(r.classAccuracy()), num(r.fd()))).append('\n');
        }
        AtomicFiles.writeString(dir.resolve(CSV), csv.toString());
        AtomicFiles.writeString(dir.resolve(JSON), MAPPER.writeValueAsString(json(result)));
        ParetoChart.write(result, dir.resolve(PARETO));
        Path page = dir.resolve(PAGE);
        AtomicFiles.writeString(page, html(result));
        return page;
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
        b.append(String.format(Locale.ROOT, "%-16s %-34s %7s %7s %7s %6s %7s %6s %7s%n", "policy", "params",
                "speedup", "skipped", "PSNR", "SSIM", "maxerr", "acc", "FD"));
        for (ShootoutRow r : result.rows()) {
            b.append(String.format(Locale.ROOT, "%-16s %-34s %6.2fx %6.1f%% %7s %6.4f %7.4f %6s %7s%n", r.policy(),
                    r.params().length() > 34 ? r.params().substring(0, 31) + "..." : r.params(), r.speedup(),
                    100 * r.skippedFraction(), Double.isInfinite(r.psnr()) ? "inf" : String.format(Locale.ROOT,
                            "%.2f", r.psnr()), r.ssim(), r.maxAbsErr(), Double.isFinite(r.classAccuracy())
                                    ? String.format(Locale.ROOT, "%.3f", r.classAccuracy()) : "-", fmt(r.fd())));
        }
        return b.toString();
    }

    /** The policies' rows that no other row beats in both speedup and PSNR. */
    public static List<ShootoutRow> paretoFront(List<ShootoutRow> rows) {
        List<ShootoutRow> front = new ArrayList<>();
        for (ShootoutRow r : rows) {
            boolean dominated = false;
            for (ShootoutRow o : rows) {
                if (o != r && o.speedup() >= r.speedup() && o.psnr() >= r.psnr()
                        && (o.speedup() > r.speedup() || o.psnr() > r.psnr())) {
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
            x.put("skipped_fraction", row.skippedFraction());
            x.put("psnr", Double.isInfinite(row.psnr()) ? "inf" : finite(row.psnr()));
            x.put("ssim", finite(row.ssim()));
            x.put("max_abs_err", row.maxAbsErr());
            x.put("class_accuracy", finite(row.classAccuracy()));
            x.put("fd", finite(row.fd()));
            x.put("seconds", row.seconds());
            x.put("baseline_seconds", row.baselineSeconds());
            x.put("cache", row.cache());
            rows.add(x);
        }
        m.put("rows", rows);
        return m;
    }

    private static final String IMAGE_NOTE = "Fidelity: PSNR (over all pixels, data range 2), SSIM and largest "
            + "pixel error of the cached samples against the uncached ones. Quality: class accuracy and Fréchet "
            + "distance of the cached samples (digit classifier).";
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
        h.append("<figure><img src=\"").append(PARETO).append("\" alt=\"speedup against PSNR\"></figure>\n");
        h.append("<table>\n<tr><th>policy</th><th>params</th><th>speedup</th><th>skipped</th><th>PSNR (dB)</th>")
                .append("<th>SSIM</th><th>max abs err</th><th>class acc.</th><th>FD</th></tr>\n");
        List<ShootoutRow> front = paretoFront(r.rows());
        for (ShootoutRow row : r.rows()) {
            h.append(front.contains(row) ? "<tr style=\"font-weight:bold\">" : "<tr>").append("<td>")
                    .append(ReportPage.esc(row.policy())).append("</td><td>").append(ReportPage.esc(row.params()))
                    .append("</td>").append(String.format(Locale.ROOT, "<td class=\"n\">%.2fx</td><td class=\"n\">"
                            + "%.1f%%</td><td class=\"n\">%s</td><td class=\"n\">%.4f</td><td class=\"n\">%.4f</td>"
                            + "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>%n", row.speedup(),
                            100 * row.skippedFraction(), Double.isInfinite(row.psnr()) ? "identical"
                                    : String.format(Locale.ROOT, "%.2f", row.psnr()), row.ssim(), row.maxAbsErr(),
                            num(row.classAccuracy()), fmt(row.fd())));
        }
        h.append("</table>\n<p class=\"note\">Bold: on the Pareto front (no other row is both faster and more ")
                .append("faithful).</p>\n</body>\n</html>\n");
        return h.toString();
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
