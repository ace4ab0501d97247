package io.ditcache.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.BlockPart;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.JsonFiles;
import io.ditcache.io.Messages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON form of a {@link ComputeMask}: {@value ComputeMask#FORMAT}, or {@value ComputeMask#WEIGHTED_FORMAT} with
 * a {@code "layer_costs"} array where the blocks' costs differ (so that a reader of the first format never takes a
 * weighted mask's computed fraction for a count), or {@value ComputeMask#DECISIONS_FORMAT} where some cell is
 * neither compute nor whole-block reuse: {@code "decisions"}, one string per step of one {@link CellDecision}
 * letter per layer ({@code C A F P B T}), {@code "layer_parts"} (per layer the block's part names, where a cell
 * reuses parts) and {@code "layer_costs"} where the costs differ. Masks of compute and reuse only are written in
 * the first two formats, as before.
 */
final class ComputeMaskCodec {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** Slack for a computed fraction written as a rounded decimal. */
    private static final double FRACTION_TOLERANCE = 1e-9;

    private ComputeMaskCodec() {
    }

    static void write(ComputeMask mask, Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        boolean decisions = mask.hasDecisions();
        root.put("format", decisions ? ComputeMask.DECISIONS_FORMAT : mask.weighted() ? ComputeMask.WEIGHTED_FORMAT
                : ComputeMask.FORMAT);
        root.put("steps", mask.steps());
        root.put("layers", mask.layers());
        if (mask.weighted()) {
            com.fasterxml.jackson.databind.node.ArrayNode costs = root.putArray("layer_costs");
            for (double c : mask.costs()) {
                costs.add(c);
            }
        }
        if (mask.layerParts().isPresent()) {
            com.fasterxml.jackson.databind.node.ArrayNode parts = root.putArray("layer_parts");
            for (java.util.Set<BlockPart> p : mask.layerParts().get()) {
                com.fasterxml.jackson.databind.node.ArrayNode names = parts.addArray();
                p.forEach(part -> names.add(part.name().toLowerCase(Locale.ROOT)));
            }
        }
        root.put("computed_fraction", mask.computedFraction());
        root.put("estimated_error", mask.estimatedError());
        ObjectNode criterion = root.putObject("criterion");
        if (mask.criterion() instanceof ComputeMask.Budget b) {
            criterion.put("budget", b.fraction());
        } else {
            criterion.put("target_error", ((ComputeMask.TargetError) mask.criterion()).maxError());
        }
        root.put("source", mask.source());
        // "compute" (or "decisions") goes last, one line per step, so that the file reads as the grid it is
        String head = JSON.writeValueAsString(root).stripTrailing();
        StringBuilder text = new StringBuilder(head.substring(0, head.length() - 1).stripTrailing());
        if (decisions) {
            text.append(",\n  \"decisions\" : [");
            for (int t = 0; t < mask.steps(); t++) {
                text.append(t == 0 ? "\n    \"" : ",\n    \"");
                for (int l = 0; l < mask.layers(); l++) {
                    text.append(mask.decision(t, l).code());
                }
                text.append('"');
            }
            text.append("\n  ]\n}");
            AtomicFiles.writeString(file, text + "\n");
            return;
        }
        text.append(",\n  \"compute\" : [");
        for (int t = 0; t < mask.steps(); t++) {
            text.append(t == 0 ? "\n    [" : ",\n    [");
            for (int l = 0; l < mask.layers(); l++) {
                text.append(l == 0 ? "" : ", ").append(mask.computes(t, l) ? 1 : 0);
            }
            text.append(']');
        }
        text.append("\n  ]\n}");
        AtomicFiles.writeString(file, text + "\n");
    }

    static ComputeMask read(Path file) throws IOException {
        JsonNode root = JsonFiles.readTree(JSON, file);
        String where = file.toString();
        if (root == null || !root.isObject()) {
            throw new IOException(where + ": expected a JSON object, found "
                    + (root == null || root.isMissingNode() ? "nothing" : abbreviate(root)));
        }
        JsonNode format = root.get("format");
        boolean weighted = format != null && format.isTextual() && ComputeMask.WEIGHTED_FORMAT.equals(format.asText());
        boolean decisions = format != null && format.isTextual()
                && ComputeMask.DECISIONS_FORMAT.equals(format.asText());
        if (format == null || !format.isTextual() || !weighted && !decisions
                && !ComputeMask.FORMAT.equals(format.asText())) {
            throw new IOException(where + ": key \"format\" is " + abbreviate(format) + ", expected \""
                    + ComputeMask.FORMAT + "\", \"" + ComputeMask.WEIGHTED_FORMAT + "\" or \""
                    + ComputeMask.DECISIONS_FORMAT + "\"");
        }
        int steps = positiveInt(root, "steps", ComputeMask.MAX_STEPS, where);
        int layers = positiveInt(root, "layers", ComputeMask.MAX_LAYERS, where);
        if (decisions) {
            return readDecisions(root, steps, layers, where);
        }
        double[] costs = costs(root, weighted, layers, where);
        boolean[][] compute = grid(root, steps, layers, where);
        int computed = 0;
        double computedCost = 0;
        double totalCost = 0;
        for (int l = 0; l < layers; l++) {
            totalCost += costs == null ? 1 : costs[l];
        }
        for (boolean[] row : compute) {
            for (int l = 0; l < layers; l++) {
                computed += row[l] ? 1 : 0;
                computedCost += row[l] ? costs == null ? 1 : costs[l] : 0;
            }
        }
        double fraction = costs == null ? (double) computed / ((long) steps * layers)
                : computedCost / (totalCost * steps);
        double written = number(root, "computed_fraction", where, "a number");
        if (Math.abs(written - fraction) > FRACTION_TOLERANCE) {
            throw new IOException(where + ": key \"computed_fraction\" is " + written + ", expected " + fraction
                    + " (" + computed + " of " + ((long) steps * layers) + " entries of \"compute\" are 1)");
        }
        double error = number(root, "estimated_error", where, "a finite number >= 0");
        if (error < 0) {
            throw new IOException(where + ": key \"estimated_error\" is " + error + ", expected a finite number >= 0");
        }
        ComputeMask.Criterion criterion = criterion(root, where);
        if (criterion instanceof ComputeMask.Budget b && fraction > b.fraction()) {
            throw new IOException(where + ": key \"computed_fraction\" is " + fraction + ", expected at most the "
                    + "criterion's budget " + b.fraction());
        }
        if (criterion instanceof ComputeMask.TargetError e && error > e.maxError()) {
            throw new IOException(where + ": key \"estimated_error\" is " + error + ", expected at most the "
                    + "criterion's target_error " + e.maxError());
        }
        JsonNode source = root.get("source");
        if (source == null || !source.isTextual()) {
            throw new IOException(where + ": key \"source\" is " + abbreviate(source) + ", expected a string");
        }
        try {
            return new ComputeMask(compute, costs, criterion, error, source.asText());
        } catch (IllegalArgumentException e) {
            throw new IOException(Messages.oneLine(where + ": " + e.getMessage()), e);
        }
    }

    /** The rest of a {@value ComputeMask#DECISIONS_FORMAT} file. */
    private static ComputeMask readDecisions(JsonNode root, int steps, int layers, String where) throws IOException {
        double[] costs = costs(root, root.has("layer_costs"), layers, where);
        List<java.util.Set<BlockPart>> parts = parts(root, layers, where);
        CellDecision[][] grid = decisionGrid(root, steps, layers, where);
        double error = number(root, "estimated_error", where, "a finite number >= 0");
        if (error < 0) {
            throw new IOException(where + ": key \"estimated_error\" is " + error + ", expected a finite number >= 0");
        }
        ComputeMask.Criterion criterion = criterion(root, where);
        JsonNode source = root.get("source");
        if (source == null || !source.isTextual()) {
            throw new IOException(where + ": key \"source\" is " + abbreviate(source) + ", expected a string");
        }
        ComputeMask mask;
        try {
            // the criterion is checked below, with the file's keys named
            mask = new ComputeMask(grid, costs, parts, new ComputeMask.Budget(1.0), error, source.asText());
        } catch (IllegalArgumentException e) {
            throw new IOException(Messages.oneLine(where + ": " + e.getMessage()), e);
        }
        double written = number(root, "computed_fraction", where, "a number");
        if (Math.abs(written - mask.computedFraction()) > FRACTION_TOLERANCE) {
            throw new IOException(where + ": key \"computed_fraction\" is " + written + ", expected "
                    + mask.computedFraction() + " (from \"decisions\", \"layer_parts\" and the layers' costs)");
        }
        if (criterion instanceof ComputeMask.Budget b && mask.computedFraction() > b.fraction()) {
            throw new IOException(where + ": key \"computed_fraction\" is " + mask.computedFraction()
                    + ", expected at most the criterion's budget " + b.fraction());
        }
        if (criterion instanceof ComputeMask.TargetError e && error > e.maxError()) {
            throw new IOException(where + ": key \"estimated_error\" is " + error + ", expected at most the "
                    + "criterion's target_error " + e.maxError());
        }
        return new ComputeMask(grid, costs, parts, criterion, error, source.asText());
    }

    /** {@code "layer_parts"}: per layer, an array of part names; null where absent. */
    private static List<java.util.Set<BlockPart>> parts(JsonNode root, int layers, String where) throws IOException {
        JsonNode v = root.get("layer_parts");
        if (v == null) {
            return null;
        }
        String expected = "an array of " + layers + " arrays of part names (" + partNames() + ")";
        if (!v.isArray() || v.size() != layers) {
            throw new IOException(where + ": key \"layer_parts\" is " + abbreviate(v) + ", expected " + expected);
        }
        List<java.util.Set<BlockPart>> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            JsonNode names = v.get(l);
            if (!names.isArray() || names.size() > BlockPart.values().length) {
                throw new IOException(where + ": layer_parts[" + l + "] is " + abbreviate(names) + ", expected an "
                        + "array of part names (" + partNames() + ")");
            }
            java.util.Set<BlockPart> set = java.util.EnumSet.noneOf(BlockPart.class);
            for (JsonNode n : names) {
                BlockPart p = n.isTextual() ? part(n.asText()) : null;
                if (p == null || !set.add(p)) {
                    throw new IOException(where + ": layer_parts[" + l + "] has " + abbreviate(n) + ", expected "
                            + "each of " + partNames() + " at most once");
                }
            }
            out.add(set);
        }
        return out;
    }

    private static BlockPart part(String name) {
        for (BlockPart p : BlockPart.values()) {
            if (p.name().toLowerCase(Locale.ROOT).equals(name)) {
                return p;
            }
        }
        return null;
    }

    private static String partNames() {
        return java.util.Arrays.stream(BlockPart.values()).map(p -> p.name().toLowerCase(Locale.ROOT)).toList()
                .toString();
    }

    /** {@code "decisions"}: per step a string of one {@link CellDecision} letter per layer. */
    private static CellDecision[][] decisionGrid(JsonNode root, int steps, int layers, String where)
            throws IOException {
        JsonNode m = root.get("decisions");
        String letters = java.util.Arrays.stream(CellDecision.values()).map(d -> String.valueOf(d.code()))
                .collect(java.util.stream.Collectors.joining());
        String shape = "an array of " + steps + " strings of " + layers + " letters of " + letters;
        if (m == null || !m.isArray() || m.size() != steps) {
            throw new IOException(where + ": key \"decisions\" is " + abbreviate(m) + ", expected " + shape);
        }
        CellDecision[][] out = new CellDecision[steps][];
        for (int t = 0; t < steps; t++) {
            JsonNode row = m.get(t);
            if (!row.isTextual() || row.asText().length() != layers) {
                throw new IOException(where + ": decisions[" + t + "] is " + abbreviate(row) + ", expected a string "
                        + "of " + layers + " letters of " + letters + " (key \"layers\")");
            }
            out[t] = new CellDecision[layers];
            for (int l = 0; l < layers; l++) {
                char c = row.asText().charAt(l);
                out[t][l] = CellDecision.of(c);
                if (out[t][l] == null) {
                    throw new IOException(where + ": decisions[" + t + "][" + l + "] is '" + c + "', expected one "
                            + "of " + letters);
                }
                if (t == 0 && out[t][l] != CellDecision.COMPUTE) {
                    throw new IOException(where + ": decisions[0][" + l + "] is '" + c + "', expected 'C' (step 0 "
                            + "computes every block: nothing is cached before it)");
                }
            }
        }
        return out;
    }

    /** The weighted format's {@code "layer_costs"}; null for the unweighted one, which must not have them. */
    private static double[] costs(JsonNode root, boolean weighted, int layers, String where) throws IOException {
        JsonNode v = root.get("layer_costs");
        if (!weighted) {
            if (v != null) {
                throw new IOException(where + ": key \"layer_costs\" is present, expected it only with format \""
                        + ComputeMask.WEIGHTED_FORMAT + "\"");
            }
            return null;
        }
        String expected = "an array of " + layers + " finite numbers > 0 (key \"layers\")";
        if (v == null || !v.isArray() || v.size() != layers) {
            throw new IOException(where + ": key \"layer_costs\" is " + abbreviate(v) + ", expected " + expected);
        }
        double[] out = new double[layers];
        for (int l = 0; l < layers; l++) {
            JsonNode c = v.get(l);
            if (!c.isNumber() || !(c.asDouble() > 0) || !Double.isFinite(c.asDouble())) {
                throw new IOException(where + ": layer_costs[" + l + "] is " + c + ", expected a finite number > 0");
            }
            out[l] = c.asDouble();
        }
        return out;
    }

    private static int positiveInt(JsonNode root, String key, int max, String where) throws IOException {
        JsonNode v = root.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1 || v.asInt() > max) {
            throw new IOException(where + ": key \"" + key + "\" is " + abbreviate(v)
                    + ", expected an integer >= 1 and at most " + max);
        }
        return v.asInt();
    }

    private static double number(JsonNode root, String key, String where, String expected) throws IOException {
        JsonNode v = root.get(key);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw new IOException(where + ": key \"" + key + "\" is " + v + ", expected " + expected);
        }
        return v.asDouble();
    }

    private static boolean[][] grid(JsonNode root, int steps, int layers, String where) throws IOException {
        JsonNode m = root.get("compute");
        String shape = "a [" + steps + "][" + layers + "] array ([step][layer]) of 0 and 1";
        if (m == null || !m.isArray()) {
            throw new IOException(where + ": key \"compute\" is " + abbreviate(m) + ", expected " + shape);
        }
        if (m.size() != steps) {
            throw new IOException(where + ": key \"compute\" has " + m.size() + " steps, expected " + shape);
        }
        // each row is allocated only once the file has shown that many entries: "steps" and "layers" are claims
        boolean[][] out = new boolean[steps][];
        for (int t = 0; t < steps; t++) {
            JsonNode row = m.get(t);
            if (!row.isArray() || row.size() != layers) {
                throw new IOException(where + ": compute[" + t + "] is " + abbreviate(row) + ", expected an array "
                        + "of " + layers + " layers (key \"layers\")");
            }
            out[t] = new boolean[layers];
            for (int l = 0; l < layers; l++) {
                JsonNode v = row.get(l);
                if (!v.isIntegralNumber() || (v.asLong() != 0 && v.asLong() != 1)) {
                    throw new IOException(where + ": compute[" + t + "][" + l + "] is " + v + ", expected 0 or 1");
                }
                out[t][l] = v.asLong() == 1;
                if (t == 0 && !out[t][l]) {
                    throw new IOException(where + ": compute[0][" + l + "] is 0, expected 1 (step 0 computes "
                            + "every block: nothing is cached before it)");
                }
            }
        }
        return out;
    }

    private static ComputeMask.Criterion criterion(JsonNode root, String where) throws IOException {
        JsonNode c = root.get("criterion");
        String expected = "{\"budget\": F} with F in (0, 1] or {\"target_error\": E} with E >= 0";
        if (c == null || !c.isObject() || c.size() != 1) {
            throw new IOException(where + ": key \"criterion\" is " + abbreviate(c) + ", expected " + expected);
        }
        List<String> names = new ArrayList<>();
        c.fieldNames().forEachRemaining(names::add);
        String name = names.get(0);
        JsonNode v = c.get(name);
        try {
            if (name.equals("budget") && v.isNumber()) {
                return new ComputeMask.Budget(v.asDouble());
            }
            if (name.equals("target_error") && v.isNumber()) {
                return new ComputeMask.TargetError(v.asDouble());
            }
        } catch (IllegalArgumentException e) {
            // out of range: reported below with the file and key
        }
        throw new IOException(where + ": key \"criterion\" is " + abbreviate(c) + ", expected " + expected);
    }

    /** A value for a message: arrays and objects cut short, so that a message stays one readable line. */
    private static String abbreviate(JsonNode v) {
        String s = String.valueOf(v);
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
