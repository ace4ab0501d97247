package io.ditcache.model.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.ditcache.io.CheckpointException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pipeline's tokenizer, read from its folder's {@code tokenizer.json} by the HuggingFace tokenizers library
 * (through DJL, whose jar carries the native library), padded and truncated as the diffusers pipelines call it:
 * {@code padding="max_length", truncation=True}, padding on the right with the pad token of
 * {@code tokenizer_config.json} (CLIP-L's {@code <|endoftext|>}, bigG's {@code !}, T5's {@code <pad>}), a truncated
 * prompt keeping its special tokens (CLIP: start + 75 + end; T5: 511 + {@code </s>} at 512).
 *
 * <p>Nothing is downloaded: unless the application sets {@code ai.djl.offline} (or {@code DJL_OFFLINE}) itself,
 * this sets the system property {@code ai.djl.offline=true} before DJL first runs, which makes DJL load the CPU
 * library from its jar (extracted once to {@code ~/.djl.ai/tokenizers}, or where {@code DJL_CACHE_DIR} says)
 * rather than fetch a CUDA build on a GPU machine, and skips its usage report.
 *
 * <p>On the module path, DJL's module is resolved only when asked: start the JVM with
 * {@code --add-modules ai.djl.tokenizers}.
 *
 * <p>Not thread-safe. Close it to free the native tokenizers.
 */
public final class PromptTokenizer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PromptTokenizer.class);
    private static final String OFFLINE = "ai.djl.offline";

    private final Path file;
    private final TokenizerFiles files;
    private final long padId;
    private final Map<Integer, HuggingFaceTokenizer> truncating = new HashMap<>();
    private final HuggingFaceTokenizer whole;
    private boolean closed;

    private PromptTokenizer(Path file, TokenizerFiles files, long padId) throws CheckpointException {
        this.file = file;
        this.files = files;
        this.padId = padId;
        this.whole = create(0);
    }

    /**
     * Opens the tokenizer of {@code dir}: {@code tokenizer.json} and, where present, {@code tokenizer_config.json}
     * (pad token, {@code model_max_length}, class).
     *
     * @throws CheckpointException naming the file: missing, not valid JSON, not a tokenizer the library reads, a
     *                             pad token it does not hold, or none at all
     */
    public static PromptTokenizer open(Path dir) throws IOException {
        TokenizerFiles files = TokenizerFiles.read(dir);
        Path file = dir.resolve(TokenizerFiles.TOKENIZER);
        if (files.padToken() == null) {
            throw new CheckpointException(dir + ": no pad token: " + TokenizerFiles.CONFIG + " names no pad_token "
                    + "and " + TokenizerFiles.TOKENIZER + " sets no padding, expected one of them to say what the "
                    + "pipelines pad with");
        }
        return new PromptTokenizer(file, files, files.vocabulary().get(files.padToken()));
    }

    /** The tokenizer.json file, as messages name it. */
    public Path file() {
        return file;
    }

    /** {@code model_max_length} of tokenizer_config.json (CLIP 77, T5 512), or 0 where it gives none. */
    public int modelMaxLength() {
        return files.maxLength();
    }

    /** The id rows are padded with. */
    public long padId() {
        return padId;
    }

    /** The highest id the tokenizer can produce, plus one. */
    public long vocabularySize() {
        return files.size();
    }

    /**
     * Whether any pipeline uses this tokenizer's attention mask: not for CLIP (no pipeline passes it; the causal
     * mask hides the padding after the end-of-text token), yes for others. For T5 it depends on the pipeline:
     * PixArt-α and Mochi pass it to the encoder (and the transformer), FLUX, SD3 and CogVideoX encode without it.
     */
    public boolean pipelineMasks() {
        return !files.tokenizerClass().startsWith("CLIPTokenizer");
    }

    /**
     * Refuses a tokenizer that can produce ids the encoder has no embedding for.
     *
     * @param vocabSize the encoder's {@code vocab_size}
     * @param encoder   names the encoder's config in the message
     * @throws CheckpointException naming tokenizer.json, its size and the encoder's
     */
    public void checkVocabulary(int vocabSize, String encoder) throws CheckpointException {
        if (files.size() > vocabSize) {
            throw new CheckpointException(file + ": ids up to " + (files.size() - 1) + " (a vocabulary of "
                    + files.size() + "), but " + encoder + " has vocab_size " + vocabSize + ": the tokenizer is not "
                    + "this encoder's");
        }
    }

    /**
     * Token ids of {@code prompts}, each padded (or truncated) to {@code options.maxLength()} as the pipelines do.
     * A truncated prompt is logged (INFO) and listed in the result, or refused where the options are strict.
     *
     * @throws IllegalArgumentException naming the prompts' source, the prompt and tokenizer.json: an empty or
     *                                  blank prompt (unless allowed), a prompt too long under strict options, no
     *                                  prompts
     */
    public TokenizedPrompts encode(List<String> prompts, TokenizeOptions options) {
        checkOpen();
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException(options.source() + ": no prompts, expected at least one");
        }
        int len = options.maxLength();
        long[] ids = new long[Math.multiplyExact(prompts.size(), len)];
        long[] mask = new long[ids.length];
        Arrays.fill(ids, padId);
        List<TokenizedPrompts.Truncation> cut = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            String p = prompts.get(i);
            if (p == null || p.isBlank() && !options.allowEmpty()) {
                throw new IllegalArgumentException(options.source() + ": prompt " + (i + 1) + " is empty"
                        + (p == null || p.isEmpty() ? "" : " (only white space)") + ", expected text to encode with "
                        + file);
            }
            long[] row = whole.encode(p).getIds();
            if (row.length > len) {
                if (options.strict()) {
                    throw new IllegalArgumentException(options.source() + ": prompt " + (i + 1) + " is "
                            + row.length + " tokens long with " + file + ", more than the maximum " + len
                            + " (special tokens included); shorten it, or let it be truncated as the pipelines do");
                }
                LOG.info("{}: prompt {} is {} tokens long with {}, more than the maximum {}: truncated to {} as the "
                        + "pipelines do", options.source(), i + 1, row.length, file, len, len);
                cut.add(new TokenizedPrompts.Truncation(i, row.length));
                row = truncating(len).encode(p).getIds();
                if (row.length != len) {
                    throw new IllegalStateException(file + ": truncating to " + len + " gave " + row.length
                            + " tokens");
                }
            }
            System.arraycopy(row, 0, ids, i * len, row.length);
            Arrays.fill(mask, i * len, i * len + row.length, 1L);
        }
        return new TokenizedPrompts(prompts.size(), len, ids, mask, pipelineMasks(), cut);
    }

    /** The tokens of one prompt as strings, untruncated, special tokens included; for checking by eye. */
    public List<String> tokens(String prompt) {
        checkOpen();
        Encoding e = whole.encode(prompt);
        return List.of(e.getTokens());
    }

    /** Frees the native tokenizers; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            whole.close();
            truncating.values().forEach(HuggingFaceTokenizer::close);
            truncating.clear();
        }
    }

    @Override
    public String toString() {
        return "PromptTokenizer[" + file + (closed ? ", closed]" : "]");
    }

    private HuggingFaceTokenizer truncating(int maxLength) {
        HuggingFaceTokenizer t = truncating.get(maxLength);
        if (t == null) {
            try {
                t = create(maxLength);
            } catch (CheckpointException e) {
                throw new IllegalStateException(e.getMessage(), e); // the same file was read once already
            }
            truncating.put(maxLength, t);
        }
        return t;
    }

    /** A native tokenizer that does not pad, and truncates to {@code maxLength} (0: does not truncate). */
    private HuggingFaceTokenizer create(int maxLength) throws CheckpointException {
        offlineUnlessSet();
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "true");
        options.put("padding", "false");
        options.put("truncation", maxLength > 0 ? "true" : "false");
        if (maxLength > 0) {
            options.put("maxLength", Integer.toString(maxLength));
        }
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(files.json().getBytes(
                    StandardCharsets.UTF_8)), options);
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            Throwable c = e.getCause();
            if (c != null && c.getMessage() != null) {
                m += ": " + c.getMessage();
            }
            throw new CheckpointException(file + ": not a tokenizer the HuggingFace tokenizers library reads ("
                    + m.lines().findFirst().orElse(m).toLowerCase(Locale.ROOT) + ")", e);
        }
    }

    /** See the class comment: DJL stays offline unless the application decided otherwise. */
    private static void offlineUnlessSet() {
        if (System.getProperty(OFFLINE) == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty(OFFLINE, "true");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }
}
