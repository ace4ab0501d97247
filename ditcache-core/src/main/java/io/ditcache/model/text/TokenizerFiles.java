package io.ditcache.model.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * What a tokenizer folder says beside the tokenizer itself: the vocabulary of {@code tokenizer.json} (token to id,
 * model vocabulary and added tokens), and {@code tokenizer_config.json}'s class, pad token and
 * {@code model_max_length}.
 *
 * @param json          the tokenizer.json text
 * @param vocabulary    every token with its id
 * @param size          the highest id plus one
 * @param tokenizerClass {@code tokenizer_class}, or "" where absent
 * @param padToken      the pad token (tokenizer_config.json, else tokenizer.json's padding), or null
 * @param maxLength     {@code model_max_length}, or 0 where absent or unbounded
 */
record TokenizerFiles(String json, Map<String, Long> vocabulary, long size, String tokenizerClass, String padToken,
        int maxLength) {
    static final String TOKENIZER = "tokenizer.json";
    static final String CONFIG = "tokenizer_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** transformers writes int(1e30) for "no maximum". */
    private static final double UNBOUNDED = 1e9;

    /** Reads {@code dir}'s tokenizer.json and, where present, tokenizer_config.json. */
    static TokenizerFiles read(Path dir) throws IOException {
        Path file = dir.resolve(TOKENIZER);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + ": no " + TOKENIZER + ", expected a tokenizer folder (the "
                    + "HuggingFace tokenizers file, as in a pipeline's tokenizer/ or tokenizer_2/)");
        }
        Path configFile = dir.resolve(CONFIG);
        return parse(JsonFiles.readBounded(file), file.toString(), Files.isRegularFile(configFile)
                ? JsonFiles.readBounded(configFile) : null, configFile.toString());
    }

    /**
     * Parses a tokenizer.json and, unless null, a tokenizer_config.json held in memory.
     *
     * @param source       how messages name the tokenizer.json
     * @param configSource how messages name the tokenizer_config.json
     */
    static TokenizerFiles parse(byte[] bytes, String source, byte[] configBytes, String configSource)
            throws CheckpointException {
        String file = source;
        JsonNode root = tree(bytes, source);
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new CheckpointException(file + ": is " + describe(root) + ", expected a "
                    + "tokenizers JSON object with \"model\"");
        }
        Map<String, Long> vocab = new HashMap<>();
        JsonNode v = root.path("model").path("vocab");
        if (v.isObject()) { // BPE, WordPiece, WordLevel: token -> id
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                vocab.put(e.getKey(), id(file, "model.vocab." + e.getKey(), e.getValue()));
            }
        } else if (v.isArray()) { // Unigram: [piece, score] at its id
            for (int i = 0; i < v.size(); i++) {
                vocab.putIfAbsent(v.get(i).path(0).asText(), (long) i);
            }
        } else {
            throw new CheckpointException(file + ": model.vocab is " + describe(v) + ", expected the vocabulary (an "
                    + "object or an array)");
        }
        long size = vocab.values().stream().mapToLong(Long::longValue).max().orElse(-1) + 1;
        for (JsonNode t : root.path("added_tokens")) {
            long id = id(file, "added_tokens[].id", t.path("id"));
            vocab.put(t.path("content").asText(), id);
            size = Math.max(size, id + 1);
        }
        String cls = "";
        String pad = root.path("padding").path("pad_token").isTextual()
                ? root.path("padding").path("pad_token").textValue() : null;
        int maxLength = 0;
        if (pad != null && !vocab.containsKey(pad)) {
            throw new CheckpointException(file + ": padding.pad_token \"" + pad + "\" is not in the vocabulary");
        }
        String configFile = configSource;
        if (configBytes != null) {
            JsonNode c = tree(configBytes, configSource);
            if (c == null || !c.isObject()) {
                throw new CheckpointException(configFile + ": is " + describe(c) + ", expected a "
                        + "JSON object");
            }
            cls = c.path("tokenizer_class").asText("");
            JsonNode p = c.path("pad_token");
            String configured = p.isTextual() ? p.textValue() : p.path("content").isTextual()
                    ? p.path("content").textValue() : null;
            if (configured != null) {
                if (!vocab.containsKey(configured)) {
                    throw new CheckpointException(configFile + ": pad_token \"" + configured + "\" is not in the "
                            + "vocabulary of " + file);
                }
                pad = configured;
            }
            JsonNode m = c.path("model_max_length");
            if (m.isNumber()) {
                if (m.doubleValue() < 2) {
                    throw new CheckpointException(configFile + ": model_max_length is " + m + ", expected at least 2");
                }
                maxLength = m.doubleValue() >= UNBOUNDED ? 0 : m.intValue();
            }
        }
        return new TokenizerFiles(new String(bytes, java.nio.charset.StandardCharsets.UTF_8), vocab, size, cls,
                pad, maxLength);
    }

    private static JsonNode tree(byte[] bytes, String source) throws CheckpointException {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new CheckpointException(JsonFiles.problem(source, e), e);
        }
    }

    private static long id(String file, String where, JsonNode n) throws CheckpointException {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0 || n.intValue() == Integer.MAX_VALUE) {
            throw new CheckpointException(file + ": " + where + " is " + describe(n) + ", expected a token id (an "
                    + "integer from 0 to " + (Integer.MAX_VALUE - 1) + ")");
        }
        return n.longValue();
    }

    /** A JSON value for a message: its kind and, abbreviated, its text. */
    private static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "missing";
        }
        String text = n.toString();
        text = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        String kind = n.isObject() ? "an object" : n.isArray() ? "an array" : n.isTextual() ? "a string"
                : n.isNumber() ? "the number" : n.isNull() ? "null" : n.isBoolean() ? "the boolean" : "a value";
        return n.isNull() ? kind : kind + " " + text;
    }
}
