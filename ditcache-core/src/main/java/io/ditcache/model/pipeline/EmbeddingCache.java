package io.ditcache.model.pipeline;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ComputeType;
import io.ditcache.model.text.TokenizeOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Prompt embeddings on disk, one file per prompt, keyed by the encoders' fingerprint and the prompt's text, so a
 * study over many prompts encodes each once and a second run loads them without loading the encoders.
 *
 * <p>The fingerprint ({@link #fingerprint}) hashes the pipeline's kind, T5's sequence length, the compute type, each
 * tokenizer's files, each encoder's {@code config.json} and the names, sizes and headers of its weight files: a
 * changed encoder or tokenizer gets new entries. Layout: {@code ROOT/FINGERPRINT/PROMPT_HASH.safetensors} (the
 * prompt's own tensors, its text in the metadata) and {@code ROOT/FINGERPRINT/sets/SET_HASH.safetensors}, the
 * prompts of one run with their negative, in the layout of {@link io.ditcache.sample.PromptEmbeddings}.
 *
 * <p>Where the cache lives: {@link #defaultDir()}.
 */
public final class EmbeddingCache {
    /** System property naming the cache folder. */
    public static final String PROPERTY = "ditcache.embedding.cache";
    /** Environment variable naming the cache folder (the property wins). */
    public static final String ENV = "DITCACHE_EMBEDDING_CACHE";
    private static final String HIDDEN = "hidden";
    private static final String POOLED = "pooled";
    private static final String MASK = "mask";
    private static final String PROMPT = "prompt";
    private static final String TRUNCATION = "truncation";

    private final Path root;

    /** A cache under {@code root} (created when first written). */
    public EmbeddingCache(Path root) {
        this.root = root;
    }

    /**
     * The default folder: the system property {@value #PROPERTY}, else the environment variable {@value #ENV}, else
     * {@code ~/.cache/ditcache/embeddings}.
     */
    public static Path defaultDir() {
        String p = System.getProperty(PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(ENV);
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "ditcache", "embeddings");
    }

    /** The cache's folder. */
    public Path root() {
        return root;
    }

    /**
     * What to encode.
     *
     * @param prompts        the prompts, in order, as the user gave them (preprocessing is the pipeline's)
     * @param negative       the negative prompt for a guided pipeline (null: the pipelines' default {@code ""}); not
     *                       used by a pipeline without negatives
     * @param source         where the prompts came from, for messages (a file, {@code --prompt})
     * @param strict         refuse a prompt longer than a tokenizer's maximum instead of truncating it
     * @param sequenceLength T5's length, or 0 for the pipeline's
     * @param type           the encoders' compute type
     */
    public record Request(List<String> prompts, String negative, String source, boolean strict, int sequenceLength,
            ComputeType type) {
    }

    /**
     * The prompts' embeddings file and how it was made.
     *
     * @param file     a {@link io.ditcache.sample.PromptEmbeddings} file
     * @param hits     prompts (and the negative) found in the cache
     * @param encoded  prompts (and the negative) encoded now
     * @param warnings one line per truncated prompt
     * @param negative whether the file holds a negative prompt
     */
    public record Result(Path file, int hits, int encoded, List<String> warnings, boolean negative) {
    }

    /**
     * Embeddings of the request's prompts, from the cache where it has them, else encoded (the encoders are loaded
     * only then) and stored.
     *
     * @throws IllegalArgumentException for no prompts, an empty prompt, or a long one under {@code strict}, naming
     *                                  the source and the tokenizer file
     * @throws IOException              from the pipeline's files (each message names the file) or the cache folder
     */
    public Result prepare(PipelineFolder p, Request r) throws IOException {
        PipelineKind kind = PipelineKind.of(p);
        Path firstTokenizer = p.require("tokenizer", "to tokenize prompts").dir().resolve("tokenizer.json");
        if (r.prompts().isEmpty()) {
            throw new IllegalArgumentException(r.source() + ": no prompts, expected at least one");
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < r.prompts().size(); i++) {
            String t = r.prompts().get(i);
            if (t == null || t.isBlank()) {
                throw new IllegalArgumentException(r.source() + ": prompt " + (i + 1) + " is empty"
                        + (t == null || t.isEmpty() ? "" : " (only white space)") + ", expected text to encode with "
                        + firstTokenizer);
            }
            texts.add(kind.preprocess(t));
        }
        String negative = kind.negatives() ? kind.preprocess(r.negative() == null ? "" : r.negative()) : null;
        if (kind == PipelineKind.MOCHI && Boolean.TRUE.equals(p.option("force_zeros_for_empty_prompt").orElse(null))
                && negative != null && negative.isEmpty()) {
            throw new IllegalArgumentException(p.index() + ": force_zeros_for_empty_prompt is true, which zeroes the "
                    + "empty negative prompt's ids and mask; ditcache encodes \"\" as the pipeline does by default "
                    + "(false): set it to false, or give a non-empty negative prompt");
        }
        List<String> all = new ArrayList<>(texts);
        if (negative != null) {
            all.add(negative);
        }
        String fp = fingerprint(p, kind, r.sequenceLength(), r.type());
        Path dir = root.resolve(fp.substring(0, 32));
        Map<String, EncodedPrompt> found = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        int hits = 0;
        for (String t : all) {
            if (found.containsKey(t) || missing.contains(t)) {
                continue;
            }
            EncodedPrompt e = read(dir.resolve(key(fp, t) + ".safetensors"), t);
            if (e != null) {
                found.put(t, e);
                hits++;
            } else {
                missing.add(t);
            }
        }
        if (!missing.isEmpty()) {
            try (PromptEncoder enc = PromptEncoder.open(p, r.type(), r.sequenceLength())) {
                List<EncodedPrompt> made = enc.encode(missing, new TokenizeOptions(2, false, true, r.source()));
                Files.createDirectories(dir);
                for (int i = 0; i < missing.size(); i++) {
                    write(dir.resolve(key(fp, missing.get(i)) + ".safetensors"), missing.get(i), made.get(i));
                    found.put(missing.get(i), made.get(i));
                }
            }
        }
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String cut = found.get(texts.get(i)).truncation();
            if (cut == null) {
                continue;
            }
            if (r.strict()) {
                throw new IllegalArgumentException(r.source() + ": prompt " + (i + 1) + " is " + cut + " (special "
                        + "tokens included); shorten it, or drop --strict to truncate it as the pipeline does");
            }
            warnings.add(r.source() + ": prompt " + (i + 1) + " is " + cut + ": truncated as the pipeline does "
                    + "(--strict refuses)");
        }
        Path file = dir.resolve("sets").resolve(key(fp, String.join("\u0000", all) + "\u0001" + negative)
                .substring(0, 24) + ".safetensors");
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(file.getParent());
            assemble(file, texts, negative, found);
        }
        return new Result(file, hits, missing.size(), warnings, negative != null);
    }

    /** The cached entry of {@code text}, or null where there is none or it cannot be read. */
    private static EncodedPrompt read(Path file, String text) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!text.equals(f.metadata().get(PROMPT))) {
                return null;
            }
            long[] d = f.info(HIDDEN).dims();
            float[] pooled = f.contains(POOLED) ? f.floats(POOLED) : null;
            long[] mask = f.contains(MASK) ? f.longs(MASK) : null;
            return new EncodedPrompt(f.floats(HIDDEN), (int) d[0], (int) d[1], pooled, mask,
                    f.metadata().get(TRUNCATION));
        } catch (IOException | RuntimeException e) {
            return null; // a damaged entry is encoded again and replaced
        }
    }

    private static void write(Path file, String text, EncodedPrompt e) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata(PROMPT, text)
                .put(HIDDEN, e.hidden(), e.tokens(), e.width());
        if (e.truncation() != null) {
            w.metadata(TRUNCATION, e.truncation());
        }
        if (e.pooled() != null) {
            w.put(POOLED, e.pooled(), e.pooled().length);
        }
        if (e.mask() != null) {
            w.put(MASK, e.mask(), e.mask().length);
        }
        w.write(file);
    }

    private static void assemble(Path file, List<String> texts, String negative, Map<String, EncodedPrompt> found)
            throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        put(w, "", texts.stream().map(found::get).toList());
        if (negative != null) {
            put(w, "negative_", List.of(found.get(negative)));
        }
        w.write(file);
    }

    private static void put(SafetensorsWriter w, String prefix, List<EncodedPrompt> rows) {
        EncodedPrompt first = rows.get(0);
        int n = rows.size();
        float[] h = new float[Math.multiplyExact(n, first.hidden().length)];
        for (int i = 0; i < n; i++) {
            System.arraycopy(rows.get(i).hidden(), 0, h, i * first.hidden().length, first.hidden().length);
        }
        w.put(prefix + "encoder_hidden_states", h, n, first.tokens(), first.width());
        if (first.pooled() != null) {
            int pw = first.pooled().length;
            float[] p = new float[n * pw];
            for (int i = 0; i < n; i++) {
                System.arraycopy(rows.get(i).pooled(), 0, p, i * pw, pw);
            }
            w.put(prefix + "pooled_projections", p, n, pw);
        }
        if (first.mask() != null) {
            long[] m = new long[n * first.tokens()];
            for (int i = 0; i < n; i++) {
                System.arraycopy(rows.get(i).mask(), 0, m, i * first.tokens(), first.tokens());
            }
            w.put(prefix + "encoder_attention_mask", m, n, first.tokens());
        }
    }

    private static String key(String fingerprint, String text) {
        return hex(sha().digest((fingerprint + "\n" + text).getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    }

    /**
     * The encoders' fingerprint: SHA-256 (hex) of the pipeline's kind, T5's length, the compute type, each
     * tokenizer's {@code tokenizer.json} and {@code tokenizer_config.json}, each encoder's {@code config.json} and
     * the name, size and header of each of its {@code *.safetensors} files.
     */
    public static String fingerprint(PipelineFolder p, PipelineKind kind, int sequenceLength, ComputeType type)
            throws IOException {
        MessageDigest sha = sha();
        update(sha, kind.name() + "\n" + (sequenceLength > 0 ? sequenceLength : kind.sequenceLength()) + "\n"
                + type + "\n");
        for (String[] pair : PromptEncoder.componentNames(kind)) {
            Path tok = p.require(pair[0], "to tokenize prompts").dir();
            for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
                Path file = tok.resolve(f);
                if (Files.isRegularFile(file)) {
                    update(sha, pair[0] + "/" + f + "\n");
                    sha.update(Files.readAllBytes(file));
                }
            }
            Path enc = p.require(pair[1], "to encode prompts").dir();
            Path config = enc.resolve("config.json");
            if (Files.isRegularFile(config)) {
                update(sha, pair[1] + "/config.json\n");
                sha.update(Files.readAllBytes(config));
            }
            List<Path> weights;
            try (Stream<Path> s = Files.list(enc)) {
                weights = s.filter(x -> x.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            }
            for (Path w : weights) {
                update(sha, pair[1] + "/" + w.getFileName() + " " + Files.size(w) + "\n");
                sha.update(header(w));
            }
        }
        return hex(sha.digest());
    }

    /** A safetensors file's header bytes (its length and JSON), or nothing for a file too short to have one. */
    private static byte[] header(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) >= 0) {
                // read the length
            }
            if (len.hasRemaining()) {
                return new byte[0];
            }
            long n = len.flip().getLong();
            if (n < 0 || n > SafetensorsFile.MAX_HEADER_BYTES || n > ch.size() - 8) {
                return new byte[0];
            }
            ByteBuffer h = ByteBuffer.allocate((int) n);
            while (h.hasRemaining() && ch.read(h) >= 0) {
                // read the header
            }
            return h.array();
        }
    }

    private static void update(MessageDigest sha, String s) {
        sha.update(s.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
