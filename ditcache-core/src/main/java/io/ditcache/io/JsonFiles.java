package io.ditcache.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.CharConversionException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the library's JSON files (configs, index files, profiles, masks, plans) so that every failure is one line
 * that starts with the file and says where in it: Jackson's own messages span lines and name its internals, not
 * the file.
 */
public final class JsonFiles {
    /**
     * Heap a parsed tree takes per byte of JSON text, roughly: a number of a few characters becomes a node object
     * and a slot in its array.
     */
    static final long TREE_BYTES_PER_TEXT_BYTE = 4;
    /** Where an object or array opened, as Jackson writes it into a message. */
    private static final Pattern OPENED = Pattern.compile(
            "\\(start marker at \\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]\\)");
    /** Any other location Jackson writes into a message. */
    private static final Pattern AT = Pattern.compile("at \\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]");

    private JsonFiles() {
    }

    /**
     * The tree of {@code file}, read with {@code mapper}.
     *
     * @throws IOException one line starting with the file: missing, too large for the heap, or not valid JSON with
     *                     the line and column
     */
    public static JsonNode readTree(ObjectMapper mapper, Path file) throws IOException {
        byte[] text = readBounded(file);
        try {
            return mapper.readTree(text);
        } catch (IOException e) {
            throw new IOException(problem(file.toString(), e), e);
        }
    }

    /**
     * The bytes of a JSON file whose parsed tree fits in the heap.
     *
     * @throws IOException one line starting with the file when it is missing, unreadable or too large
     */
    public static byte[] readBounded(Path file) throws IOException {
        return readBounded(file, MemoryBudget.ofThisMachine());
    }

    static byte[] readBounded(Path file, MemoryBudget budget) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        } catch (IOException e) {
            throw new IOException(problem(file.toString(), e), e);
        }
        String shortfall = budget.shortfall(MemoryBudget.times(size, TREE_BYTES_PER_TEXT_BYTE), 0);
        if (shortfall != null || size > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": a JSON file of " + MemoryBudget.bytes(size) + "; parsing it "
                    + (shortfall != null ? shortfall : "needs more than one Java array holds"));
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException(problem(file.toString(), e), e);
        }
    }

    /**
     * One line for a failure to read JSON from {@code source}: the source, where in it (line and column) and the
     * first line of the parser's message without its internal source description.
     */
    public static String problem(String source, IOException e) {
        if (e instanceof NoSuchFileException) {
            return source + ": no such file";
        }
        if (!(e instanceof JsonProcessingException j)) {
            String m = firstLine(e.getMessage());
            return source + ": " + (e instanceof CharConversionException ? "not valid JSON text: " : "cannot be read: ")
                    + m;
        }
        String m = firstLine(j.getOriginalMessage());
        m = OPENED.matcher(m).replaceAll("(opened at line $1, column $2)");
        m = AT.matcher(m).replaceAll("at line $1, column $2");
        int raw = m.indexOf("[Source:");
        if (raw >= 0) {
            m = m.substring(0, raw).stripTrailing(); // a location form the patterns do not know
        }
        JsonLocation at = j.getLocation();
        String where = at == null || at.getLineNr() < 1 ? ""
                : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return source + ": not valid JSON" + where + ": " + m;
    }

    /**
     * The keys of a JSON object file (a diffusers {@code scheduler_config.json}, for example) as plain JSON values:
     * maps, lists, strings, numbers, booleans and nulls. Python's {@code Infinity} and {@code NaN} are read.
     *
     * @throws IOException              if the file cannot be read or is not JSON (the message names the file)
     * @throws IllegalArgumentException if it is not a JSON object
     */
    public static Map<String, Object> readObject(Path file) throws IOException {
        byte[] text = readBounded(file);
        Object parsed;
        try {
            parsed = JsonMapper.builder()
                    .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // Python's json writes Infinity
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build()
                    .readValue(text, Object.class);
        } catch (IOException e) {
            throw new IOException(problem(file.toString(), e), e);
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(file + ": expected a JSON object, found "
                    + (parsed == null ? "null" : parsed.getClass().getSimpleName()));
        }
        Map<String, Object> object = new LinkedHashMap<>();
        map.forEach((k, v) -> object.put(String.valueOf(k), v));
        return object;
    }

    private static String firstLine(String m) {
        if (m == null || m.isBlank()) {
            return "no detail";
        }
        return m.strip().lines().findFirst().orElse("").strip();
    }
}
