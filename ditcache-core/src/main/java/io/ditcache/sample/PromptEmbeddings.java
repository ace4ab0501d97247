package io.ditcache.sample;

import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.model.TextEmbeddings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Prompts as a text encoder made them, read from a safetensors file under diffusers' argument names, one entry per
 * prompt: {@code encoder_hidden_states} {@code [P, T, W]}, optional {@code pooled_projections} {@code [P, W2]} and
 * {@code encoder_attention_mask} {@code [P, T]} (0/1, bool or integer), and optional negatives
 * ({@code negative_encoder_hidden_states}, {@code negative_pooled_projections}, {@code
 * negative_encoder_attention_mask}) with 1 row (shared by every prompt) or P rows, the same tokens and widths.
 *
 * <p>Every name, dtype, shape, row count and value (finite embeddings, 0/1 masks that keep a token) is checked
 * when the file is read, and its size against the memory before anything is loaded; each failure is one line
 * naming the file, the tensor, the value and what was expected. The tensors are held (float32, masks int64)
 * until {@link #close()}; the {@link TextEmbeddings} handed out are views of them.
 */
public final class PromptEmbeddings implements AutoCloseable {
    /** The prompts' token embeddings. */
    public static final String HIDDEN = "encoder_hidden_states";
    /** The prompts' pooled vectors (SD3, FLUX). */
    public static final String POOLED = "pooled_projections";
    /** Which tokens count (1) and which are padding (0). */
    public static final String MASK = "encoder_attention_mask";
    /** Prefix of the negative prompts' tensors. */
    public static final String NEGATIVE = "negative_";
    private static final List<String> NAMES = List.of(HIDDEN, POOLED, MASK, NEGATIVE + HIDDEN, NEGATIVE + POOLED,
            NEGATIVE + MASK);

    private final Path file;
    private final Map<String, Tensor> tensors;
    private final int prompts;
    private final int negatives;
    private boolean closed;

    private PromptEmbeddings(Path file, Map<String, Tensor> tensors, int prompts, int negatives) {
        this.file = file;
        this.tensors = tensors;
        this.prompts = prompts;
        this.negatives = negatives;
    }

    /** Reads and checks {@code file} against this machine's memory. */
    public static PromptEmbeddings read(Path file) throws IOException {
        return read(file, MemoryBudget.ofThisMachine());
    }

    /**
     * Reads and checks {@code file}.
     *
     * @throws IOException              if it cannot be read or is not a safetensors file (the message names it)
     * @throws IllegalArgumentException for a missing, unknown or ill-shaped tensor, a bad dtype or value, or a size
     *                                  over {@code budget}, naming the file, the tensor, the value and what was
     *                                  expected
     */
    public static PromptEmbeddings read(Path file, MemoryBudget budget) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Shapes s = check(file, f, budget);
            Map<String, Tensor> loaded = new LinkedHashMap<>();
            try (PointerScope scope = new PointerScope()) {
                for (String name : NAMES) {
                    if (f.contains(name)) {
                        Tensor t = f.load(name);
                        t.retainReference();
                        loaded.put(name, t);
                        checkValues(file, name, t);
                    }
                }
            } catch (RuntimeException e) {
                loaded.values().forEach(Tensor::releaseReference);
                throw e;
            }
            return new PromptEmbeddings(file, loaded, s.prompts, s.negatives);
        }
    }

    private record Shapes(int prompts, int negatives) {
    }

    /** Checks names, dtypes, shapes and the size of everything against {@code budget}, from the header alone. */
    private static Shapes check(Path file, SafetensorsFile f, MemoryBudget budget) {
        TreeSet<String> unknown = new TreeSet<>(f.names());
        unknown.removeAll(NAMES);
        if (!unknown.isEmpty()) {
            throw refuse(file, unknown.first(), "is not a prompt-embeddings tensor, expected some of " + NAMES);
        }
        if (!f.contains(HIDDEN)) {
            throw new IllegalArgumentException(file + ": no tensor \"" + HIDDEN + "\" (has " + names(f.names())
                    + "), expected [prompts, tokens, width] float embeddings, one entry per prompt");
        }
        long[] h = floats(file, f, HIDDEN, 3, "[prompts, tokens, width]");
        if (h[0] > Integer.MAX_VALUE) {
            throw refuse(file, HIDDEN, "has " + h[0] + " prompts, expected at most " + Integer.MAX_VALUE);
        }
        long[] p = null;
        if (f.contains(POOLED)) {
            p = floats(file, f, POOLED, 2, "[prompts, width]");
            rows(file, POOLED, p[0], h[0], false);
        }
        if (f.contains(MASK)) {
            mask(file, f, MASK, h[0], h[1], false);
        }
        int negatives = 0;
        if (f.contains(NEGATIVE + HIDDEN)) {
            String name = NEGATIVE + HIDDEN;
            long[] n = floats(file, f, name, 3, "[1 or prompts, tokens, width]");
            rows(file, name, n[0], h[0], true);
            if (n[1] != h[1] || n[2] != h[2]) {
                throw refuse(file, name, "has shape " + Arrays.toString(n) + ", expected [" + rowsWanted(h[0])
                        + ", " + h[1] + ", " + h[2] + "] (the tokens and width of " + HIDDEN + ": a guided batch "
                        + "stacks both)");
            }
            negatives = (int) n[0];
            pairs(file, f, POOLED);
            pairs(file, f, MASK);
            if (p != null) {
                long[] np = floats(file, f, NEGATIVE + POOLED, 2, "[1 or prompts, width]");
                if (np[0] != negatives || np[1] != p[1]) {
                    throw refuse(file, NEGATIVE + POOLED, "has shape " + Arrays.toString(np) + ", expected ["
                            + negatives + ", " + p[1] + "] (the rows of " + name + ", the width of " + POOLED + ")");
                }
            }
            if (f.contains(MASK)) {
                mask(file, f, NEGATIVE + MASK, negatives, h[1], true);
            }
        } else {
            for (String other : List.of(NEGATIVE + POOLED, NEGATIVE + MASK)) {
                if (f.contains(other)) {
                    throw refuse(file, other, "is given without " + NEGATIVE + HIDDEN + ", expected both or neither");
                }
            }
        }
        long bytes = 0;
        for (String name : f.names()) {
            TensorInfo ti = f.info(name);
            bytes = MemoryBudget.plus(bytes, MemoryBudget.times(ti.numel(), ti.dtype().isFloatingPoint()
                    ? Float.BYTES : Long.BYTES));
        }
        String shortfall = budget.shortfall(0, bytes);
        if (shortfall != null) {
            throw new IllegalArgumentException(file + ": the prompt embeddings as float32 " + shortfall);
        }
        return new Shapes((int) h[0], negatives);
    }

    /** A float tensor of {@code rank} dimensions, each >= 1; its shape. */
    private static long[] floats(Path file, SafetensorsFile f, String name, int rank, String want) {
        TensorInfo ti = f.info(name);
        if (!ti.dtype().isFloatingPoint()) {
            throw refuse(file, name, "has dtype " + ti.dtype() + ", expected a float type (F32, F16, BF16, F64)");
        }
        long[] d = ti.dims();
        if (d.length != rank || Arrays.stream(d).anyMatch(x -> x < 1)) {
            throw refuse(file, name, "has shape " + Arrays.toString(d) + ", expected " + want + " with each >= 1");
        }
        return d;
    }

    private static void mask(Path file, SafetensorsFile f, String name, long rows, long tokens, boolean negative) {
        TensorInfo ti = f.info(name);
        if (ti.dtype().isFloatingPoint()) {
            throw refuse(file, name, "has dtype " + ti.dtype() + ", expected BOOL or an integer type (1 = attend, "
                    + "0 = padding)");
        }
        long[] d = ti.dims();
        if (d.length != 2 || d[0] != rows || d[1] != tokens) {
            throw refuse(file, name, "has shape " + Arrays.toString(d) + ", expected [" + rows + ", " + tokens
                    + "] (the rows and tokens of " + (negative ? NEGATIVE : "") + HIDDEN + ")");
        }
    }

    private static void rows(Path file, String name, long got, long prompts, boolean negative) {
        if (negative ? got != 1 && got != prompts : got != prompts) {
            throw refuse(file, name, "has " + got + " rows, expected " + (negative ? rowsWanted(prompts)
                    : String.valueOf(prompts)) + " (" + (negative ? "one negative for all prompts or one per prompt"
                            : "one per prompt of " + HIDDEN) + ")");
        }
    }

    /** A field the prompts have must be there for the negatives too, and the other way round: one batch. */
    private static void pairs(Path file, SafetensorsFile f, String field) {
        boolean main = f.contains(field);
        boolean neg = f.contains(NEGATIVE + field);
        if (main != neg) {
            String has = main ? field : NEGATIVE + field;
            String lacks = main ? NEGATIVE + field : field;
            throw refuse(file, lacks, "is missing while " + has + " is given; a guided batch stacks prompts and "
                    + "negatives, so give both or neither");
        }
    }

    private static String rowsWanted(long prompts) {
        return prompts == 1 ? "1" : "1 or " + prompts;
    }

    /** Finite embeddings; masks of 0 and 1 that keep at least one token per row. */
    private static void checkValues(Path file, String name, Tensor t) {
        if (name.endsWith(MASK)) {
            long[] v = io.ditcache.internal.Tensors.toLongs(t);
            long tokens = t.size(1);
            for (int i = 0; i < v.length; i++) {
                if (v[i] != 0 && v[i] != 1) {
                    throw refuse(file, name, "holds " + v[i] + " at row " + i / tokens + ", token " + i % tokens
                            + ", expected 0 (padding) or 1 (attend)");
                }
            }
            for (long r = 0; r < t.size(0); r++) {
                boolean any = false;
                for (long k = 0; k < tokens && !any; k++) {
                    any = v[(int) (r * tokens + k)] == 1;
                }
                if (!any) {
                    throw refuse(file, name, "row " + r + " attends to no token, expected at least one 1");
                }
            }
            return;
        }
        long bad = org.bytedeco.pytorch.global.torch.count_nonzero(t.isfinite().logical_not()).item_long();
        if (bad > 0) {
            throw refuse(file, name, "holds " + bad + " non-finite values (NaN or infinite) of " + t.numel()
                    + ", expected finite embeddings");
        }
    }

    private static IllegalArgumentException refuse(Path file, String tensor, String what) {
        return new IllegalArgumentException(file + ": tensor \"" + tensor + "\" " + what);
    }

    private static String names(Set<String> names) {
        return names.isEmpty() ? "no tensors" : String.join(", ", names.stream().limit(5).toList())
                + (names.size() > 5 ? ", ... " + (names.size() - 5) + " more" : "");
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** Number of prompts. */
    public int prompts() {
        return prompts;
    }

    /** Tokens per prompt. */
    public long tokens() {
        return tensor(HIDDEN).size(1);
    }

    /** Width of each token's embedding. */
    public long width() {
        return tensor(HIDDEN).size(2);
    }

    /** Width of the pooled vectors, if the file has them. */
    public Optional<Long> pooledWidth() {
        return Optional.ofNullable(tensors.get(POOLED)).map(t -> t.size(1));
    }

    /** Whether the file has negative prompts. */
    public boolean hasNegatives() {
        return negatives > 0;
    }

    /**
     * Prompt {@code i} as one row of embeddings, at {@code size} (empty: the model's default); a view of the
     * held tensors, valid until {@link #close()}.
     */
    public TextEmbeddings prompt(int i, Optional<LatentSize> size) {
        return row("", i, size);
    }

    /** The negative prompt for prompt {@code i} (the shared one when the file has one row), if the file has any. */
    public Optional<TextEmbeddings> negative(int i, Optional<LatentSize> size) {
        if (negatives == 0) {
            return Optional.empty();
        }
        checkIndex(i);
        return Optional.of(row(NEGATIVE, negatives == 1 ? 0 : i, size));
    }

    /**
     * The conditions of every prompt paired with every seed, prompt-major, each with its negative when the file
     * has negatives.
     */
    public List<Condition> conditions(List<Long> seeds, Optional<LatentSize> size) {
        List<Condition> out = new ArrayList<>();
        for (int p = 0; p < prompts; p++) {
            for (long seed : seeds) {
                out.add(condition(p, seed, size));
            }
        }
        return out;
    }

    /** Prompt {@code p} with seed {@code seed}, and its negative if the file has negatives. */
    public Condition condition(int p, long seed, Optional<LatentSize> size) {
        Condition c = new Condition(prompt(p, size), seed);
        Optional<TextEmbeddings> n = negative(p, size);
        return n.isPresent() ? c.withNegative(n.get()) : c;
    }

    /**
     * Checks that {@code model} takes these embeddings (width, pooled vector, mask), by asking it for the latent
     * shape of the first prompt and of the first negative.
     *
     * @throws IllegalArgumentException the model's refusal, prefixed by this file
     */
    public void checkAgainst(Denoiser model) {
        List<Conditioning> probes = new ArrayList<>();
        probes.add(prompt(0, Optional.empty()));
        negative(0, Optional.empty()).ifPresent(probes::add);
        for (Conditioning c : probes) {
            try {
                Sampler.latentShape(model, c, model.samplingDefaults().guidance());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + model.info().className() + " refuses these "
                        + "embeddings: " + e.getMessage(), e);
            }
        }
    }

    private TextEmbeddings row(String prefix, int i, Optional<LatentSize> size) {
        Tensor hidden = tensor(prefix + HIDDEN);
        if (prefix.isEmpty()) {
            checkIndex(i);
        }
        Optional<Tensor> mask = Optional.ofNullable(tensors.get(prefix + MASK)).map(t -> t.narrow(0, i, 1));
        Optional<Tensor> pooled = Optional.ofNullable(tensors.get(prefix + POOLED)).map(t -> t.narrow(0, i, 1));
        return new TextEmbeddings(hidden.narrow(0, i, 1), mask, pooled, size);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= prompts) {
            throw new IndexOutOfBoundsException("prompt " + i + " of " + prompts + " in " + file);
        }
    }

    private Tensor tensor(String name) {
        if (closed) {
            throw new IllegalStateException("prompt embeddings of " + file + " are closed");
        }
        return tensors.get(name);
    }

    /** Releases the tensors; idempotent. Embeddings handed out must not be used afterwards. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            tensors.values().forEach(Tensor::releaseReference);
        }
    }

    @Override
    public String toString() {
        return "PromptEmbeddings[" + file + ", " + prompts + " prompts" + (negatives > 0 ? ", " + negatives
                + " negatives" : "") + "]";
    }

}
