package io.ditcache;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.JsonFiles;
import io.ditcache.io.Messages;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** JSON ({@value RedundancyProfile#FORMAT}) and CSV forms of a {@link RedundancyProfile}. */
final class ProfileCodec {
    /**
     * The key of the series of {@link DistanceMetric#FORECAST_L1_REL}: kept out of {@code "series"}, whose metrics
     * readers before it know, so that they read a file with it (and skip it).
     */
    static final String FORECAST_SERIES = "forecast_series";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper READER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private ProfileCodec() {
    }

    static void writeJson(RedundancyProfile p, Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", RedundancyProfile.FORMAT);
        root.set("model", JSON.valueToTree(p.model()));
        root.set("scheduler", JSON.valueToTree(p.scheduler()));
        root.put("steps", p.steps());
        root.put("layers", p.layers());
        root.put("runs", p.runs());
        root.put("samples", p.samples());
        ArrayNode all = root.putArray("series");
        ArrayNode forecasts = null;
        for (ProfileSeries s : p.series()) {
            ArrayNode into = all;
            if (!DistanceMetric.stepToStep().contains(s.key().metric())) {
                // apart from "series", so that readers older than the forecast error still read the file
                forecasts = forecasts != null ? forecasts : root.putArray(FORECAST_SERIES);
                into = forecasts;
            }
            ObjectNode n = into.addObject();
            n.put("kind", s.key().kind().name());
            n.put("stream", s.key().stream().name());
            n.put("branch", s.key().branch().name());
            n.put("metric", s.key().metric().name());
            n.set("count", JSON.valueToTree(s.countMatrix()));
            n.set("mean", JSON.valueToTree(s.meanMatrix()));
            n.set("m2", JSON.valueToTree(s.m2Matrix()));
            n.set("nonfinite", JSON.valueToTree(s.nonFiniteMatrix()));
        }
        AtomicFiles.write(file, tmp -> JSON.writeValue(tmp.toFile(), root));
    }

    static void writeCsv(RedundancyProfile p, Path file) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("kind,stream,branch,metric,layer,step,count,mean,std,cv,nonfinite\n");
                for (ProfileSeries s : p.series()) {
                    SeriesKey k = s.key();
                    for (int l = 0; l < s.layers(); l++) {
                        for (int t = 0; t < s.steps(); t++) {
                            w.write(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%d,%d,%s,%s,%s,%d%n", k.kind(),
                                    k.stream(), k.branch(), k.metric(), l, t, s.count(l, t), num(s.mean(l, t)),
                                    num(s.std(l, t)), num(s.cv(l, t)), s.nonFinite(l, t)));
                        }
                    }
                }
            }
        });
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }

    static RedundancyProfile readJson(Path file) throws IOException {
        JsonNode root = JsonFiles.readTree(READER, file);
        String where = file.toString();
        if (root == null || !root.isObject()) {
            throw new IOException(where + ": is " + abbreviate(root) + ", expected a JSON object with \"format\": \""
                    + RedundancyProfile.FORMAT + "\"");
        }
        JsonNode formatNode = root.get("format");
        if (formatNode == null || !formatNode.isTextual() || !RedundancyProfile.FORMAT.equals(formatNode.asText())) {
            throw new IOException(where + ": key \"format\" is " + abbreviate(formatNode) + ", expected \""
                    + RedundancyProfile.FORMAT + "\"");
        }
        int steps = intField(root, "steps", where);
        JsonNode series = root.path("series");
        if (!series.isArray()) {
            throw new IOException(where + ": key \"series\" is " + abbreviate(root.get("series"))
                    + ", expected an array");
        }
        int layers;
        if (root.has("layers")) {
            layers = intField(root, "layers", where);
        } else {
            layers = series.size() == 0 ? 1 : series.get(0).path("count").size();
        }
        Map<String, Object> model = identity(root, "model", where);
        Map<String, Object> sched = identity(root, "scheduler", where);
        RedundancyProfile p;
        try {
            p = new RedundancyProfile(model, sched, layers, steps);
        } catch (IllegalArgumentException e) {
            throw new IOException(Messages.oneLine(where + ": " + e.getMessage()), e);
        }
        JsonNode runs = root.get("runs");
        if (runs != null && (!runs.isIntegralNumber() || !runs.canConvertToLong() || runs.asLong() < 0)) {
            throw new IOException(where + ": key \"runs\" is " + abbreviate(runs) + ", expected an integer >= 0");
        }
        p.setRuns(runs == null ? 0 : runs.asLong());
        JsonNode samples = root.get("samples");
        if (samples != null && (!samples.isIntegralNumber() || !samples.canConvertToLong() || samples.asLong() < 0)) {
            throw new IOException(where + ": key \"samples\" is " + abbreviate(samples)
                    + ", expected an integer >= 0");
        }
        Map<SeriesKey, String> seen = new HashMap<>();
        readSeries(p, series, "series", seen, where, layers, steps);
        JsonNode forecasts = root.get(FORECAST_SERIES);
        if (forecasts != null) {
            if (!forecasts.isArray()) {
                throw new IOException(where + ": key \"" + FORECAST_SERIES + "\" is " + abbreviate(forecasts)
                        + ", expected an array");
            }
            readSeries(p, forecasts, FORECAST_SERIES, seen, where, layers, steps);
        }
        // files written before "samples" was recorded: the most observations any cell holds
        p.setSamples(samples != null ? samples.asLong() : mostObservations(p));
        return p;
    }

    /** Reads the series of one array ({@code "series"} or {@value #FORECAST_SERIES}) into {@code p}. */
    private static void readSeries(RedundancyProfile p, JsonNode series, String name, Map<SeriesKey, String> seen,
            String where, int layers, int steps) throws IOException {
        for (int i = 0; i < series.size(); i++) {
            JsonNode n = series.get(i);
            String at = where + ": " + name + "[" + i + "]";
            if (!n.isObject()) {
                throw new IOException(at + " is " + abbreviate(n) + ", expected an object with kind, stream, branch, "
                        + "metric, count, mean and m2");
            }
            SeriesKey key = new SeriesKey(enumField(n, "kind", SiteKind.class, at),
                    enumField(n, "stream", TokenStream.class, at), enumField(n, "branch", Branch.class, at),
                    enumField(n, "metric", DistanceMetric.class, at));
            String first = seen.putIfAbsent(key, name + "[" + i + "]");
            if (first != null) {
                throw new IOException(at + " repeats series " + key + " of " + first
                        + ", expected each kind/stream/branch/metric once");
            }
            // shapes are checked against the arrays present before any matrix is allocated
            long[][] count = longMatrix(n, "count", layers, steps - 1, at, true);
            double[][] mean = doubleMatrix(n, "mean", layers, steps - 1, at);
            double[][] m2 = doubleMatrix(n, "m2", layers, steps - 1, at);
            long[][] nonFinite = n.has("nonfinite") ? longMatrix(n, "nonfinite", layers, steps - 1, at, false)
                    : new long[layers][steps - 1];
            for (int l = 0; l < layers; l++) {
                for (int s = 0; s < steps - 1; s++) {
                    if (m2[l][s] < 0) {
                        throw new IOException(at + ": m2[" + l + "][" + s + "] is " + m2[l][s]
                                + ", expected >= 0");
                    }
                }
            }
            p.putSeries(new ProfileSeries(key, count, mean, m2, nonFinite));
        }
    }

    /** The largest count of observations (finite or not) in any cell of any series. */
    private static long mostObservations(RedundancyProfile p) {
        long most = 0;
        for (ProfileSeries s : p.series()) {
            for (int l = 0; l < s.layers(); l++) {
                for (int t = 0; t < s.steps(); t++) {
                    most = Math.max(most, s.count(l, t) + s.nonFinite(l, t));
                }
            }
        }
        return most;
    }

    /** {@code model} or {@code scheduler}: an object of plain values; absent or null reads as empty. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> identity(JsonNode root, String key, String where) throws IOException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw new IOException(where + ": key \"" + key + "\" is " + abbreviate(v) + ", expected an object");
        }
        return JSON.convertValue(v, Map.class);
    }

    private static int intField(JsonNode n, String key, String where) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IOException(where + ": key \"" + key + "\" is " + abbreviate(v) + ", expected an integer"
                    + (v != null && v.isIntegralNumber() ? " at most " + Integer.MAX_VALUE : ""));
        }
        return v.asInt();
    }

    /** A value for a message: cut short, so that a message stays one readable line. */
    private static String abbreviate(JsonNode v) {
        String s = v == null || v.isMissingNode() ? "missing" : v.toString();
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    private static <E extends Enum<E>> E enumField(JsonNode n, String key, Class<E> type, String where)
            throws IOException {
        JsonNode v = n.get(key);
        if (v != null && v.isTextual()) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(v.asText())) {
                    return e;
                }
            }
        }
        throw new IOException(where + ": key \"" + key + "\" is " + abbreviate(v) + ", expected one of "
                + java.util.Arrays.toString(type.getEnumConstants()));
    }

    private static double[][] doubleMatrix(JsonNode n, String key, int rows, int cols, String where)
            throws IOException {
        JsonNode m = n.get(key);
        checkShape(m, key, rows, cols, where);
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                JsonNode v = m.get(r).get(c);
                if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
                    throw new IOException(where + ": " + key + "[" + r + "][" + c + "] is " + v
                            + ", expected a finite number");
                }
                out[r][c] = v.asDouble();
            }
        }
        return out;
    }

    private static long[][] longMatrix(JsonNode n, String key, int rows, int cols, String where, boolean required)
            throws IOException {
        JsonNode m = n.get(key);
        checkShape(m, key, rows, cols, where);
        long[][] out = new long[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                JsonNode v = m.get(r).get(c);
                if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
                    throw new IOException(where + ": " + key + "[" + r + "][" + c + "] is " + v
                            + ", expected a count >= 0");
                }
                out[r][c] = v.asLong();
            }
        }
        return out;
    }

    private static void checkShape(JsonNode m, String key, int rows, int cols, String where) throws IOException {
        if (m == null || !m.isArray() || m.size() != rows) {
            throw new IOException(where + ": key \"" + key + "\" must be a [" + rows + "][" + cols
                    + "] matrix ([layer][step])");
        }
        for (int r = 0; r < rows; r++) {
            if (!m.get(r).isArray() || m.get(r).size() != cols) {
                throw new IOException(where + ": " + key + "[" + r + "] must have " + cols + " steps, has "
                        + m.get(r).size());
            }
        }
    }
}
