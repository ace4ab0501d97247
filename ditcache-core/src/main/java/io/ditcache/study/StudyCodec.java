package io.ditcache.study;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.JsonFiles;
import io.ditcache.io.Messages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Files of a study: {@value #PLAN} (what runs, for resume and merge checks), {@value #STUDY} (every table) and
 * one CSV per table. Non-finite numbers are written as JSON {@code null} and as empty CSV fields.
 */
public final class StudyCodec {
    /** The plan file of a study folder. */
    public static final String PLAN = "plan.json";
    /** The tables of a study folder. */
    public static final String STUDY = "study.json";
    static final String PLAN_FORMAT = "ditcache-study-plan/1";
    static final String STUDY_FORMAT = "ditcache-study/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper READER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private StudyCodec() {
    }

    static void writePlan(StudyPlan plan, Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", PLAN_FORMAT);
        ArrayNode models = root.putArray("models");
        for (StudyModel m : plan.models()) {
            ObjectNode n = models.addObject();
            n.put("label", m.label());
            n.put("fingerprint", m.fingerprint());
            n.set("identity", JSON.valueToTree(m.identity()));
            n.set("scheduler_config", JSON.valueToTree(m.schedulerConfig()));
        }
        root.put("conditions", plan.conditions());
        root.set("steps", JSON.valueToTree(plan.steps()));
        root.set("schedulers", JSON.valueToTree(plan.schedulers()));
        root.put("guidance", plan.guidance());
        root.put("shard", plan.shard().toString());
        if (!plan.kinds().equals(EnumSet.allOf(SiteKind.class))) {
            // only when some kinds are left out, so that a plan of every kind reads as before
            ArrayNode kinds = root.putArray("kinds");
            plan.kinds().forEach(k -> kinds.add(k.name()));
        }
        AtomicFiles.write(file, tmp -> JSON.writeValue(tmp.toFile(), root));
    }

    /**
     * Reads a plan file.
     *
     * @throws IOException naming the file, the key, the value and what was expected
     */
    static StudyPlan readPlan(Path file) throws IOException {
        JsonNode root = JsonFiles.readTree(READER, file);
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": is " + abbreviate(root) + ", expected a JSON object with \"format\": \""
                    + PLAN_FORMAT + "\"");
        }
        JsonNode format = root.get("format");
        if (format == null || !format.isTextual() || !PLAN_FORMAT.equals(format.asText())) {
            throw new IOException(file + ": key \"format\" is " + abbreviate(format) + ", expected \"" + PLAN_FORMAT
                    + "\"");
        }
        try {
            List<StudyModel> models = new ArrayList<>();
            JsonNode ms = array(root, "models", file);
            for (int i = 0; i < ms.size(); i++) {
                JsonNode m = ms.get(i);
                if (!m.isObject()) {
                    throw new IOException(file + ": models[" + i + "] is " + abbreviate(m)
                            + ", expected an object with label, fingerprint, identity and scheduler_config");
                }
                models.add(new StudyModel(text(m, "label", file), text(m, "fingerprint", file),
                        map(m, "identity", file, i), map(m, "scheduler_config", file, i)));
            }
            List<Integer> steps = new ArrayList<>();
            for (JsonNode s : array(root, "steps", file)) {
                if (!s.canConvertToInt() || !s.isIntegralNumber()) {
                    throw new IOException(file + ": key \"steps\" holds " + abbreviate(s) + ", expected integers");
                }
                steps.add(s.asInt());
            }
            List<String> schedulers = new ArrayList<>();
            for (JsonNode s : array(root, "schedulers", file)) {
                if (!s.isTextual()) {
                    throw new IOException(file + ": key \"schedulers\" holds " + abbreviate(s)
                            + ", expected scheduler names");
                }
                schedulers.add(s.asText());
            }
            JsonNode conditions = root.get("conditions");
            JsonNode guidance = root.get("guidance");
            if (conditions == null || !conditions.isIntegralNumber() || !conditions.canConvertToInt()) {
                throw new IOException(file + ": key \"conditions\" is " + abbreviate(conditions)
                        + ", expected an integer from 1 to " + StudyPlan.MAX_CONDITIONS);
            }
            if (guidance == null || !guidance.isNumber()) {
                throw new IOException(file + ": key \"guidance\" is " + abbreviate(guidance) + ", expected a number");
            }
            Set<SiteKind> kinds = EnumSet.allOf(SiteKind.class);
            if (root.has("kinds")) {
                kinds = EnumSet.noneOf(SiteKind.class);
                for (JsonNode k : array(root, "kinds", file)) {
                    if (!k.isTextual()) {
                        throw new IOException(file + ": key \"kinds\" holds " + abbreviate(k)
                                + ", expected site kind names");
                    }
                    kinds.add(SiteKind.parse(k.asText()));
                }
            }
            return new StudyPlan(models, conditions.asInt(), steps, schedulers, guidance.asDouble(),
                    Shard.parse(text(root, "shard", file)), kinds);
        } catch (IllegalArgumentException e) {
            throw new IOException(Messages.oneLine(file + ": " + e.getMessage()), e);
        }
    }

    /** Writes {@value #STUDY} and the CSV tables into {@code dir}. */
    static void writeTables(Study study, Path dir, Map<String, Object> extra) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", STUDY_FORMAT);
        root.set("settings", settings(study, extra));
        ArrayNode cv = root.putArray("prompt_cv");
        StringBuilder cvCsv = new StringBuilder("model,scheduler,steps,kind,stream,branch,metric,runs,mean_cv\n");
        for (PromptCv p : study.promptCv()) {
            ObjectNode n = cv.addObject();
            group(n, study, p.group());
            key(n, p.key());
            n.put("runs", p.runs());
            num(n, "mean_cv", p.meanCv());
            ArrayNode rows = n.putArray("cv");
            for (double[] row : p.cv()) {
                ArrayNode r = rows.addArray();
                for (double v : row) {
                    if (Double.isFinite(v)) {
                        r.add(v);
                    } else {
                        r.addNull();
                    }
                }
            }
            cvCsv.append(csv(study.modelLabel(p.group()), p.group().scheduler(), p.group().steps(), p.key().kind(),
                    p.key().stream(), p.key().branch(), p.key().metric(), p.runs(), p.meanCv())).append('\n');
        }
        AtomicFiles.writeString(dir.resolve("prompt_cv.csv"), cvCsv.toString());
        comparisons(study, root.putArray("step_stability"), Comparison.Axis.STEPS, dir.resolve("step_stability.csv"));
        comparisons(study, root.putArray("scheduler_stability"), Comparison.Axis.SCHEDULER,
                dir.resolve("scheduler_stability.csv"));
        comparisons(study, root.putArray("model_comparison"), Comparison.Axis.MODEL,
                dir.resolve("model_comparison.csv"));
        AtomicFiles.write(dir.resolve(STUDY), tmp -> JSON.writeValue(tmp.toFile(), root));
    }

    private static ObjectNode settings(Study study, Map<String, Object> extra) {
        StudyPlan plan = study.plan();
        ObjectNode s = JSON.createObjectNode();
        ArrayNode models = s.putArray("models");
        for (StudyModel m : plan.models()) {
            ObjectNode n = models.addObject();
            n.put("label", m.label());
            n.put("fingerprint", m.fingerprint());
            n.set("identity", JSON.valueToTree(m.identity()));
        }
        s.put("conditions", plan.conditions());
        s.put("condition_rule", "condition c samples class c mod classes from the noise of seed c");
        s.set("steps", JSON.valueToTree(plan.steps()));
        s.set("schedulers", JSON.valueToTree(plan.schedulers()));
        s.put("guidance", plan.guidance());
        s.put("runs", plan.runs().size());
        s.put("shard", plan.shard().toString());
        extra.forEach((k, v) -> s.set(k, JSON.valueToTree(v)));
        return s;
    }

    private static void comparisons(Study study, ArrayNode out, Comparison.Axis axis, Path csvFile)
            throws IOException {
        StringBuilder csv = new StringBuilder(switch (axis) {
            case STEPS -> "model,scheduler,steps_a,steps_b";
            case SCHEDULER -> "model,steps,scheduler_a,scheduler_b";
            case MODEL -> "scheduler,steps,model_a,model_b";
        }).append(",kind,stream,branch,metric,layer,pearson,spearman,mean_abs_diff,max_abs_diff,points\n");
        for (Comparison c : study.comparisons(axis)) {
            ObjectNode n = out.addObject();
            String[] context = context(study, c);
            String[] names = switch (axis) {
                case STEPS -> new String[] {"model", "scheduler", "steps_a", "steps_b"};
                case SCHEDULER -> new String[] {"model", "steps", "scheduler_a", "scheduler_b"};
                case MODEL -> new String[] {"scheduler", "steps", "model_a", "model_b"};
            };
            for (int i = 0; i < names.length; i++) {
                if (names[i].startsWith("steps")) {
                    n.put(names[i], Integer.parseInt(context[i]));
                } else {
                    n.put(names[i], context[i]);
                }
            }
            key(n, c.key());
            agreement(n.putObject("overall"), c.overall());
            ArrayNode layers = n.putArray("layers");
            String prefix = String.join(",", context) + "," + csv(c.key().kind(), c.key().stream(),
                    c.key().branch(), c.key().metric());
            csv.append(prefix).append(",all,").append(agreementCsv(c.overall())).append('\n');
            for (int l = 0; l < c.layers().size(); l++) {
                agreement(layers.addObject(), c.layers().get(l));
                csv.append(prefix).append(',').append(l).append(',').append(agreementCsv(c.layers().get(l)))
                        .append('\n');
            }
        }
        AtomicFiles.writeString(csvFile, csv.toString());
    }

    private static String[] context(Study study, Comparison c) {
        return switch (c.axis()) {
            case STEPS -> new String[] {study.modelLabel(c.a()), c.a().scheduler(), Integer.toString(c.a().steps()),
                Integer.toString(c.b().steps())};
            case SCHEDULER -> new String[] {study.modelLabel(c.a()), Integer.toString(c.a().steps()),
                c.a().scheduler(), c.b().scheduler()};
            case MODEL -> new String[] {c.a().scheduler(), Integer.toString(c.a().steps()), study.modelLabel(c.a()),
                study.modelLabel(c.b())};
        };
    }

    private static void agreement(ObjectNode n, CurveAgreement a) {
        num(n, "pearson", a.pearson());
        num(n, "spearman", a.spearman());
        num(n, "mean_abs_diff", a.meanAbsDiff());
        num(n, "max_abs_diff", a.maxAbsDiff());
        n.put("points", a.points());
    }

    private static String agreementCsv(CurveAgreement a) {
        return csv(a.pearson(), a.spearman(), a.meanAbsDiff(), a.maxAbsDiff(), a.points());
    }

    private static void group(ObjectNode n, Study study, GroupKey g) {
        n.put("model", study.modelLabel(g));
        n.put("scheduler", g.scheduler());
        n.put("steps", g.steps());
    }

    private static void key(ObjectNode n, SeriesKey k) {
        n.put("kind", k.kind().name());
        n.put("stream", k.stream().name());
        n.put("branch", k.branch().name());
        n.put("metric", k.metric().name());
    }

    private static void num(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }

    private static String csv(Object... values) {
        StringBuilder b = new StringBuilder();
        for (Object v : values) {
            if (b.length() > 0) {
                b.append(',');
            }
            if (v instanceof Double d) {
                b.append(Double.isFinite(d) ? Double.toString(d) : "");
            } else {
                b.append(String.valueOf(v).toLowerCase(Locale.ROOT).equals("null") ? "" : v);
            }
        }
        return b.toString();
    }

    private static JsonNode array(JsonNode root, String key, Path file) throws IOException {
        JsonNode n = root.get(key);
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw new IOException(file + ": key \"" + key + "\" is " + abbreviate(n) + ", expected a non-empty array");
        }
        return n;
    }

    private static String text(JsonNode n, String key, Path file) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw new IOException(file + ": key \"" + key + "\" is " + abbreviate(v) + ", expected a string");
        }
        return v.asText();
    }

    /** An object of plain values; absent or null reads as empty (older plans), anything else is refused. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(JsonNode model, String key, Path file, int index) throws IOException {
        JsonNode n = model.get(key);
        if (n == null || n.isNull()) {
            return Map.of();
        }
        if (!n.isObject()) {
            throw new IOException(file + ": models[" + index + "]." + key + " is " + abbreviate(n)
                    + ", expected an object");
        }
        return JSON.convertValue(n, Map.class);
    }

    /** A value for a message: cut short and escaped, so that a message stays one readable line. */
    private static String abbreviate(JsonNode v) {
        String s = v == null || v.isMissingNode() ? "missing" : v.toString();
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
