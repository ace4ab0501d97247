package io.ditcache.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * A model checkpoint in the diffusers layout: {@code config.json} and its weights, in one safetensors file or
 * sharded over several with a {@code *.safetensors.index.json}.
 *
 * <p>Which weights a directory holds, in order of preference: the index file (all shards are opened and
 * cross-checked against it; {@value #INDEX}, then transformers' {@value #MODEL_INDEX}), {@value #WEIGHTS},
 * transformers' {@value #MODEL_WEIGHTS}, or the one {@code *.safetensors} file present. Anything else (several
 * candidates without an index, none) is an error that lists what was found.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "diffusion_pytorch_model.safetensors";
    public static final String INDEX = WEIGHTS + ".index.json";
    /** transformers' name for a model's weights (a pipeline's text encoder), second in preference. */
    public static final String MODEL_WEIGHTS = "model.safetensors";
    /** transformers' index of a sharded model. */
    public static final String MODEL_INDEX = MODEL_WEIGHTS + ".index.json";
    /** Where a model directory's scheduler configuration lives, relative to it. */
    public static final String SCHEDULER_CONFIG = "scheduler/scheduler_config.json";
    private static final String SAFETENSORS = ".safetensors";
    private static final String INDEX_SUFFIX = SAFETENSORS + ".index.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String source;
    private final Path dir;
    private final DiffusersConfig config;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;
    private volatile boolean closed;

    private Checkpoint(String source, Path dir, DiffusersConfig config, List<SafetensorsFile> files,
            Map<String, SafetensorsFile> byName) {
        this.source = source;
        this.dir = dir;
        this.config = config;
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** Opens a checkpoint directory; see the class comment for how its weights are found. */
    public static Checkpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir + ": " + (Files.exists(dir) ? "not a directory" : "no such directory")
                    + ", expected a diffusers model directory with " + CONFIG + " and *" + SAFETENSORS);
        }
        List<String> listing;
        try (Stream<Path> s = Files.list(dir)) {
            listing = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(dir + ": no " + CONFIG + " (found: " + list(listing) + ")");
        }
        DiffusersConfig config = DiffusersConfig.read(configFile);

        List<String> indexes = listing.stream().filter(n -> n.endsWith(INDEX_SUFFIX))
                .filter(n -> Files.isRegularFile(dir.resolve(n))).collect(Collectors.toList());
        if (!indexes.isEmpty()) {
            String index = indexes.contains(INDEX) ? INDEX : indexes.contains(MODEL_INDEX) ? MODEL_INDEX
                    : indexes.size() == 1 ? indexes.get(0) : null;
            if (index == null) {
                throw new CheckpointException(dir + ": several index files " + list(indexes) + ", expected " + INDEX
                        + " or exactly one *" + INDEX_SUFFIX);
            }
            return openSharded(dir, dir.resolve(index), config);
        }
        List<String> weights = listing.stream().filter(n -> n.endsWith(SAFETENSORS))
                .filter(n -> Files.isRegularFile(dir.resolve(n))).collect(Collectors.toList());
        String chosen = weights.contains(WEIGHTS) ? WEIGHTS : weights.contains(MODEL_WEIGHTS) ? MODEL_WEIGHTS
                : weights.size() == 1 ? weights.get(0) : null;
        if (chosen == null) {
            throw new CheckpointException(dir + ": " + (weights.isEmpty()
                    ? "no *" + SAFETENSORS + " file (found: " + list(listing) + ")"
                    : "several weight files " + list(weights) + " and no *" + INDEX_SUFFIX)
                    + ", expected " + WEIGHTS + " (or " + MODEL_WEIGHTS + "), exactly one *" + SAFETENSORS
                    + " file, or a sharded set with its " + INDEX + " (or " + MODEL_INDEX + ")");
        }
        SafetensorsFile file = SafetensorsFile.open(dir.resolve(chosen));
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (String n : file.names()) {
            byName.put(n, file);
        }
        return new Checkpoint("checkpoint " + dir + " (" + chosen + ")", dir, config, List.of(file), byName);
    }

    /**
     * Opens a checkpoint shipped on the classpath (for example inside a jar): {@code classpathDir/config.json}
     * and {@code classpathDir/}{@value #WEIGHTS}, read into memory.
     *
     * @param classpathDir resource folder, for example {@code "io/ditcache/models/dit-tiny"}
     */
    public static Checkpoint openResource(String classpathDir, ClassLoader loader) throws IOException {
        String base = classpathDir.replaceAll("^/+|/+$", "");
        String prefix = base.isEmpty() ? "" : base + "/";
        DiffusersConfig config = DiffusersConfig.parse(resource(loader, prefix + CONFIG), "classpath:" + prefix + CONFIG);
        byte[] weights = resource(loader, prefix + WEIGHTS);
        ByteBuffer direct = ByteBuffer.allocateDirect(weights.length).put(weights).flip();
        SafetensorsFile file = SafetensorsFile.open(direct, "classpath:" + prefix + WEIGHTS);
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (String n : file.names()) {
            byName.put(n, file);
        }
        return new Checkpoint("classpath checkpoint " + base, null, config, List.of(file), byName);
    }

    /** The model's {@code config.json}. */
    public DiffusersConfig config() {
        checkOpen();
        return config;
    }

    /** A description for messages: the directory and weight file(s), or the classpath resource. */
    public String source() {
        return source;
    }

    /** The checkpoint directory; empty for a classpath checkpoint. */
    public Optional<Path> directory() {
        return Optional.ofNullable(dir);
    }

    /**
     * The scheduler configuration that comes with the model, {@code MODEL/}{@value #SCHEDULER_CONFIG}, where the
     * file exists, else, for the {@code transformer} folder of a diffusers pipeline folder (its parent holds
     * {@code model_index.json}), the pipeline's {@code scheduler/scheduler_config.json}; always empty for a
     * classpath checkpoint.
     */
    public Optional<Path> schedulerConfig() {
        if (dir == null) {
            return Optional.empty();
        }
        Path p = dir.resolve(SCHEDULER_CONFIG);
        if (Files.isRegularFile(p)) {
            return Optional.of(p);
        }
        Path parent = dir.toAbsolutePath().normalize().getParent();
        if (parent != null && Files.isRegularFile(parent.resolve("model_index.json"))) {
            Path sibling = parent.resolve(SCHEDULER_CONFIG);
            return Files.isRegularFile(sibling) ? Optional.of(sibling) : Optional.empty();
        }
        return Optional.empty();
    }

    /** Names of all tensors over all shards (index order for a sharded checkpoint, else header order). */
    public Set<String> names() {
        checkOpen();
        return byName.keySet();
    }

    /** True if the checkpoint holds a tensor of that name. */
    public boolean contains(String name) {
        checkOpen();
        return byName.containsKey(name);
    }

    /**
     * How and where a tensor is stored (offsets relative to its own shard's data section).
     *
     * @throws IllegalArgumentException if there is no such tensor
     */
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /** The weight file (a shard, for a sharded checkpoint) that holds {@code name}: what messages name. */
    public String sourceOf(String name) {
        return fileOf(name).source();
    }

    /** A copy of the tensor that owns its memory; see {@link SafetensorsFile#load}. */
    public Tensor load(String name) {
        return fileOf(name).load(name);
    }

    /** See {@link SafetensorsFile#floats}. */
    public float[] floats(String name) {
        return fileOf(name).floats(name);
    }

    /** See {@link SafetensorsFile#longs}. */
    public long[] longs(String name) {
        return fileOf(name).longs(name);
    }

    /** Closes every weight file; idempotent. Tensors already loaded stay valid. */
    @Override
    public void close() {
        closed = true;
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + source + (closed ? ", closed]" : ", " + byName.size() + " tensors]");
    }

    private SafetensorsFile fileOf(String name) {
        checkOpen();
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new IllegalArgumentException(source + ": no tensor '" + name + "' (" + byName.size() + " tensors)");
        }
        return f;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(source + " is closed");
        }
    }

    private static Checkpoint openSharded(Path dir, Path index, DiffusersConfig config) throws IOException {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shard = e.getValue();
                if (shards.containsKey(shard)) {
                    continue;
                }
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw new CheckpointException(index + ": tensor '" + e.getKey() + "' is in shard '" + shard
                            + "', which does not exist in " + dir);
                }
                shards.put(shard, SafetensorsFile.open(p));
            }
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new CheckpointException(index + ": tensor '" + e.getKey() + "' is listed in shard '"
                            + e.getValue() + "', which does not hold it");
                }
                byName.put(e.getKey(), f);
            }
            for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
                for (String n : s.getValue().names()) {
                    String listed = weightMap.get(n);
                    if (listed == null) {
                        throw new CheckpointException(index + ": shard '" + s.getKey() + "' holds tensor '" + n
                                + "', which the index does not list");
                    }
                    if (!listed.equals(s.getKey())) {
                        throw new CheckpointException(index + ": tensor '" + n + "' is in two shards, '" + listed
                                + "' (as the index says) and '" + s.getKey() + "'");
                    }
                }
            }
            String desc = "checkpoint " + dir + " (" + shards.size() + " shard" + (shards.size() == 1 ? "" : "s")
                    + " of " + index.getFileName() + ")";
            return new Checkpoint(desc, dir, config, new ArrayList<>(shards.values()), byName);
        } catch (IOException | RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) throws IOException {
        JsonNode root;
        try {
            root = JsonFiles.readTree(JSON, index);
        } catch (IOException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(index + ": is " + SafetensorsFile.describe(root)
                    + ", expected an object with \"weight_map\"");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index + ": weight_map is " + SafetensorsFile.describe(map)
                    + ", expected an object from tensor name to shard file name");
        }
        if (map.isEmpty()) {
            throw new CheckpointException(index + ": weight_map is empty, expected at least one tensor");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual() || !isPlainFileName(v.textValue())) {
                throw new CheckpointException(index + ": weight_map['" + e.getKey() + "'] is "
                        + SafetensorsFile.describe(v) + ", expected the file name of a shard in the same directory");
            }
            out.put(e.getKey(), v.textValue());
        }
        return out;
    }

    private static boolean isPlainFileName(String s) {
        return !s.isEmpty() && !s.equals(".") && !s.equals("..") && s.indexOf('/') < 0 && s.indexOf('\\') < 0
                && s.indexOf('\0') < 0;
    }

    private static byte[] resource(ClassLoader loader, String name) throws IOException {
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new CheckpointException("classpath resource '" + name + "' not found");
            }
            return in.readAllBytes();
        }
    }

    private static String list(List<String> names) {
        if (names.isEmpty()) {
            return "nothing";
        }
        int max = 20;
        String s = String.join(", ", names.subList(0, Math.min(max, names.size())));
        return names.size() > max ? s + ", ... (" + names.size() + " in all)" : s;
    }
}
