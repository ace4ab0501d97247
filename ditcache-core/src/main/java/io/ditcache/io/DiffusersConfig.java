package io.ditcache.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A diffusers {@code config.json} (model or scheduler): {@code _class_name} plus constructor arguments. A
 * transformers {@code config.json} (a pipeline's text encoder) is read too: it names its class in
 * {@code architectures} (one entry) instead, or failing that its {@code model_type}, which {@link #className()}
 * then returns.
 *
 * <p>Getters with a default return it when the key is absent or JSON {@code null} (diffusers writes
 * {@code null} for "not set"); a value of the wrong type is an error, never silently replaced. Integers must be
 * JSON integers that fit the Java type; doubles accept any JSON number.
 */
public final class DiffusersConfig {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static final String CLASS_NAME = "_class_name";
    /** Where a transformers config names its class. */
    static final String ARCHITECTURES = "architectures";
    /** A transformers config's model type, where it has no {@code architectures}. */
    static final String MODEL_TYPE = "model_type";

    private final String source;
    private final ObjectNode root;
    private final String className;

    private DiffusersConfig(String source, ObjectNode root) throws CheckpointException {
        this.source = source;
        this.root = root;
        JsonNode cls = root.get(CLASS_NAME);
        JsonNode arch = root.get(ARCHITECTURES);
        if ((cls == null || cls.isNull()) && arch != null && !arch.isNull()) {
            if (!arch.isArray() || arch.size() != 1 || !arch.get(0).isTextual() || arch.get(0).textValue().isEmpty()) {
                throw wrongType(ARCHITECTURES, arch, "an array of one class name, for example [\"T5EncoderModel\"]");
            }
            className = arch.get(0).textValue();
            return;
        }
        JsonNode modelType = root.get(MODEL_TYPE);
        if ((cls == null || cls.isNull()) && modelType != null && modelType.isTextual()
                && !modelType.textValue().isEmpty()) {
            className = modelType.textValue(); // a transformers config without architectures
            return;
        }
        if (cls == null || cls.isNull()) {
            throw new CheckpointException(source + ": no '" + CLASS_NAME
                    + "', expected the diffusers class name, for example \"DiTTransformer2DModel\" (or a transformers "
                    + "config's '" + ARCHITECTURES + "')");
        }
        if (!cls.isTextual() || cls.textValue().isEmpty()) {
            throw wrongType(CLASS_NAME, cls, "a non-empty string");
        }
        className = cls.textValue();
    }

    /** Reads and validates a config file. */
    public static DiffusersConfig read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = JsonFiles.readBounded(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": no such config file", e);
        } catch (IOException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
        return parse(bytes, file.toString());
    }

    /**
     * Parses config JSON held in memory.
     *
     * @param sourceName how messages name these bytes, for example a classpath resource
     */
    public static DiffusersConfig parse(byte[] json, String sourceName) throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new CheckpointException(JsonFiles.problem(sourceName, e), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(
                    sourceName + ": is " + SafetensorsFile.describe(root) + ", expected a JSON object");
        }
        return new DiffusersConfig(sourceName, (ObjectNode) root);
    }

    /** The file this config came from, or the name given to {@link #parse}. */
    public String source() {
        return source;
    }

    /**
     * {@code _class_name}, for example {@code "DiTTransformer2DModel"}; for a transformers config, the one entry
     * of {@code architectures}, for example {@code "CLIPTextModel"}, or without it the {@code model_type}.
     */
    public String className() {
        return className;
    }

    /** True for a transformers config (a class named by {@code architectures}, no {@code _class_name}). */
    public boolean isTransformers() {
        return !has(CLASS_NAME);
    }

    /** True if {@code key} is present with a value other than JSON {@code null}. */
    public boolean has(String key) {
        JsonNode v = root.get(key);
        return v != null && !v.isNull();
    }

    /** An int value, or {@code defaultValue} when absent or null. */
    public int intValue(String key, int defaultValue) throws CheckpointException {
        JsonNode v = value(key);
        return v == null ? defaultValue : toInt(key, v, v);
    }

    /** A required int value. */
    public int intValue(String key) throws CheckpointException {
        JsonNode v = required(key);
        return toInt(key, v, v);
    }

    /** A double value (any JSON number), or {@code defaultValue} when absent or null. */
    public double doubleValue(String key, double defaultValue) throws CheckpointException {
        JsonNode v = value(key);
        return v == null ? defaultValue : toDouble(key, v, v);
    }

    /** A required double value (any JSON number). */
    public double doubleValue(String key) throws CheckpointException {
        JsonNode v = required(key);
        return toDouble(key, v, v);
    }

    /** A string value, or {@code defaultValue} when absent or null. */
    public String stringValue(String key, String defaultValue) throws CheckpointException {
        JsonNode v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isTextual()) {
            throw wrongType(key, v, "a string");
        }
        return v.textValue();
    }

    /** A required string value. */
    public String stringValue(String key) throws CheckpointException {
        JsonNode v = required(key);
        if (!v.isTextual()) {
            throw wrongType(key, v, "a string");
        }
        return v.textValue();
    }

    /** A boolean value, or {@code defaultValue} when absent or null. */
    public boolean boolValue(String key, boolean defaultValue) throws CheckpointException {
        JsonNode v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isBoolean()) {
            throw wrongType(key, v, "true or false");
        }
        return v.booleanValue();
    }

    /** A list of ints, or {@code defaultValue} when absent or null. */
    public List<Integer> intList(String key, List<Integer> defaultValue) throws CheckpointException {
        JsonNode v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isArray()) {
            throw wrongType(key, v, "an array of integers");
        }
        List<Integer> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            out.add(toInt(key, e, v));
        }
        return Collections.unmodifiableList(out);
    }

    /** A list of doubles, or {@code defaultValue} when absent or null. */
    public List<Double> doubleList(String key, List<Double> defaultValue) throws CheckpointException {
        JsonNode v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isArray()) {
            throw wrongType(key, v, "an array of numbers");
        }
        List<Double> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            out.add(toDouble(key, e, v));
        }
        return Collections.unmodifiableList(out);
    }

    /** Every key and value as plain Java objects (maps, lists, strings, numbers, booleans, nulls). */
    public Map<String, Object> raw() {
        return Collections.unmodifiableMap(JSON.convertValue(root, new TypeReference<Map<String, Object>>() {
        }));
    }

    @Override
    public String toString() {
        return "DiffusersConfig[" + className() + ", " + source + "]";
    }

    private JsonNode value(String key) {
        Objects.requireNonNull(key, "key");
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private JsonNode required(String key) throws CheckpointException {
        JsonNode v = value(key);
        if (v == null) {
            throw new CheckpointException(source + ": key '" + key + "' is " + (root.has(key) ? "null" : "missing")
                    + ", expected a value (" + className() + ")");
        }
        return v;
    }

    private int toInt(String key, JsonNode v, JsonNode whole) throws CheckpointException {
        if (v.isIntegralNumber() && !v.canConvertToInt()) {
            String range = " from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE;
            throw wrongType(key, whole, whole == v ? "an integer" + range : "an array of integers" + range);
        }
        if (!v.isIntegralNumber()) {
            throw wrongType(key, whole, whole == v ? "an integer" : "an array of integers");
        }
        return v.intValue();
    }

    private double toDouble(String key, JsonNode v, JsonNode whole) throws CheckpointException {
        if (!v.isNumber()) {
            throw wrongType(key, whole, whole == v ? "a number" : "an array of numbers");
        }
        return v.doubleValue();
    }

    private CheckpointException wrongType(String key, JsonNode v, String expected) {
        return new CheckpointException(
                source + ": key '" + key + "' is " + SafetensorsFile.describe(v) + ", expected " + expected);
    }
}
