package io.ditcache.model.pipeline;

import io.ditcache.internal.Tensors;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.ComputeType;
import io.ditcache.model.text.PromptTokenizer;
import io.ditcache.model.text.TextEncoder;
import io.ditcache.model.text.TextEncoderOutput;
import io.ditcache.model.text.TextEncoders;
import io.ditcache.model.text.TokenizeOptions;
import io.ditcache.model.text.TokenizedPrompts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A pipeline folder's tokenizers and text encoders, building each prompt's conditioning as the published pipeline's
 * {@code encode_prompt} does ({@link PipelineKind}):
 * <ul>
 * <li>FLUX: {@code tokenizer}/{@code text_encoder} (CLIP, 77 tokens) give {@code pooler_output} as the pooled vector;
 * {@code tokenizer_2}/{@code text_encoder_2} (T5, no mask) give the sequence.</li>
 * <li>SD3: the penultimate hidden states of {@code text_encoder} (CLIP-L) and {@code text_encoder_2} (bigG), both
 * at 77 tokens without a mask, side by side on the channel dimension, zero-padded on the right to T5's width, then
 * {@code text_encoder_3}'s (T5) sequence after them on the token dimension; pooled = both {@code text_embeds}.</li>
 * <li>PixArt, CogVideoX, Mochi: {@code tokenizer}/{@code text_encoder} (T5), with the mask for PixArt and Mochi,
 * which is passed on.</li>
 * </ul>
 * Before any weight is loaded, each tokenizer's vocabulary is checked against its encoder's {@code vocab_size}.
 * Not thread-safe; close it to free the tokenizers (the encoders' memory goes with the garbage collector).
 */
public final class PromptEncoder implements AutoCloseable {
    /** Prompts encoded per forward. */
    private static final int BATCH = 8;

    /** One tokenizer and its encoder. */
    private record Stage(Path encoderDir, PromptTokenizer tokenizer, TextEncoder encoder, int length) {
    }

    private final PipelineKind kind;
    private final List<Stage> stages;

    private PromptEncoder(PipelineKind kind, List<Stage> stages) {
        this.kind = kind;
        this.stages = stages;
    }

    /**
     * The (tokenizer, encoder) component pairs the pipeline uses, in its order: CLIP first, T5 last.
     *
     * @throws CheckpointException for a pipeline ditcache cannot condition
     */
    static List<String[]> componentNames(PipelineKind kind) {
        return switch (kind) {
            case FLUX -> List.of(new String[] {"tokenizer", "text_encoder"},
                    new String[] {"tokenizer_2", "text_encoder_2"});
            case SD3 -> List.of(new String[] {"tokenizer", "text_encoder"},
                    new String[] {"tokenizer_2", "text_encoder_2"}, new String[] {"tokenizer_3", "text_encoder_3"});
            default -> List.<String[]>of(new String[] {"tokenizer", "text_encoder"});
        };
    }

    /**
     * Opens the tokenizers, checks them against the encoders' configs, then loads the encoders.
     *
     * @param sequenceLength T5's length, or 0 for the pipeline's default
     * @throws CheckpointException naming the file: a missing component, a tokenizer whose vocabulary does not fit its
     *                             encoder, an encoder config or weights that do not load
     */
    public static PromptEncoder open(PipelineFolder p, ComputeType type, int sequenceLength) throws IOException {
        PipelineKind kind = PipelineKind.of(p);
        List<Stage> stages = new ArrayList<>();
        List<PromptTokenizer> opened = new ArrayList<>();
        try {
            List<String[]> names = componentNames(kind);
            for (int i = 0; i < names.size(); i++) {
                String[] n = names.get(i);
                boolean t5 = i == names.size() - 1;
                Path tokDir = p.require(n[0], "to tokenize prompts").dir();
                Path encDir = p.require(n[1], "to encode prompts").dir();
                PromptTokenizer tok = PromptTokenizer.open(tokDir);
                opened.add(tok);
                Path configFile = encDir.resolve(Checkpoint.CONFIG);
                DiffusersConfig config = DiffusersConfig.read(configFile);
                if (!TextEncoders.isTextEncoder(config)) {
                    throw new CheckpointException(configFile + ": component \"" + n[1] + "\" is " + config.className()
                            + ", expected a text encoder (" + String.join(", ", TextEncoders.CLASS_NAMES) + ")");
                }
                tok.checkVocabulary(TextEncoders.describe(config).vocabSize(), configFile.toString());
                int length = t5 ? (sequenceLength > 0 ? sequenceLength : kind.sequenceLength()) : clipLength(tok);
                stages.add(new Stage(encDir, tok, null, length));
            }
            List<Stage> loaded = new ArrayList<>();
            for (int i = 0; i < stages.size(); i++) {
                Stage s = stages.get(i);
                TextEncoder enc = TextEncoders.load(s.encoderDir, type);
                if (enc.maxLength() > 0 && s.length > enc.maxLength()) {
                    throw new CheckpointException(s.tokenizer.file() + ": pads to " + s.length + " tokens, more than "
                            + "the " + enc.maxLength() + " positions of " + enc.className() + " in " + s.encoderDir);
                }
                loaded.add(new Stage(s.encoderDir, s.tokenizer, enc, s.length));
            }
            if (kind == PipelineKind.SD3) {
                checkSd3Widths(loaded, p);
            }
            return new PromptEncoder(kind, loaded);
        } catch (IOException | RuntimeException e) {
            opened.forEach(PromptTokenizer::close);
            throw e;
        }
    }

    /** CLIP's length: the tokenizer's {@code model_max_length}, as the pipelines take it (77 when it has none). */
    private static int clipLength(PromptTokenizer tok) {
        return tok.modelMaxLength() > 0 ? tok.modelMaxLength() : 77;
    }

    private static void checkSd3Widths(List<Stage> s, PipelineFolder p) throws CheckpointException {
        for (int i = 0; i < 2; i++) {
            if (!s.get(i).encoder.className().equals("CLIPTextModelWithProjection")) {
                throw new CheckpointException(s.get(i).encoderDir.resolve(Checkpoint.CONFIG) + ": "
                        + s.get(i).encoder.className() + ", but SD3's pooled vector is both CLIPs' text_embeds "
                        + "(expected CLIPTextModelWithProjection)");
            }
        }
        long clip = width(s.get(0).encoder) + width(s.get(1).encoder);
        long t5 = width(s.get(2).encoder);
        if (clip > t5) {
            throw new CheckpointException(p.index() + ": the CLIP encoders' widths add up to " + clip + ", more than "
                    + "T5's " + t5 + "; SD3 zero-pads the CLIP states to T5's width, so they must not be wider");
        }
    }

    private static long width(TextEncoder e) {
        return e.stateDict().entrySet().stream().filter(x -> x.getKey().endsWith("final_layer_norm.weight"))
                .findFirst().map(x -> x.getValue().size(0)).orElse(0L);
    }

    /** The pipeline's kind. */
    public PipelineKind kind() {
        return kind;
    }

    /**
     * Encodes {@code prompts} (already {@link PipelineKind#preprocess preprocessed}).
     *
     * @param options source, strictness and whether empty prompts are allowed; the lengths are the pipeline's
     * @return one entry per prompt, each saying whether and how it was truncated
     * @throws IllegalArgumentException an empty prompt (unless allowed) or a long one under strict options, naming
     *                                  the source and the tokenizer file
     */
    public List<EncodedPrompt> encode(List<String> prompts, TokenizeOptions options) {
        List<EncodedPrompt> out = new ArrayList<>();
        for (int from = 0; from < prompts.size(); from += BATCH) {
            List<String> batch = prompts.subList(from, Math.min(prompts.size(), from + BATCH));
            try (PointerScope scope = new PointerScope()) {
                out.addAll(batch(batch, options));
            }
        }
        return out;
    }

    private List<EncodedPrompt> batch(List<String> prompts, TokenizeOptions options) {
        String[] truncated = new String[prompts.size()];
        List<TextEncoderOutput> outs = new ArrayList<>();
        Tensor t5Mask = null;
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            boolean t5 = i == stages.size() - 1;
            TokenizeOptions o = new TokenizeOptions(s.length, options.strict(), options.allowEmpty(),
                    options.source());
            TokenizedPrompts ids = s.tokenizer.encode(prompts, o);
            for (TokenizedPrompts.Truncation t : ids.truncated()) {
                String line = t.tokens() + " tokens long with " + s.tokenizer.file() + ", more than " + s.length;
                truncated[t.index()] = truncated[t.index()] == null ? line : truncated[t.index()] + "; " + line;
            }
            Tensor mask = t5 && kind.masked() ? ids.attentionMask() : null;
            if (mask != null) {
                t5Mask = mask;
            }
            outs.add(s.encoder.forward(ids.inputIds(), mask));
        }
        Tensor hidden;
        Tensor pooled = null;
        switch (kind) {
            case FLUX -> {
                hidden = outs.get(1).lastHiddenState();
                pooled = outs.get(0).poolerOutput();
            }
            case SD3 -> {
                Tensor clip = torch.cat(new TensorVector(outs.get(0).hiddenStatesPenultimate(),
                        outs.get(1).hiddenStatesPenultimate()), -1);
                Tensor t5 = outs.get(2).lastHiddenState();
                long pad = t5.size(2) - clip.size(2);
                if (pad > 0) {
                    clip = torch.cat(new TensorVector(clip, torch.zeros(clip.size(0), clip.size(1), pad)), -1);
                }
                hidden = torch.cat(new TensorVector(clip, t5), 1);
                pooled = torch.cat(new TensorVector(projected(outs.get(0), 0), projected(outs.get(1), 1)), -1);
            }
            default -> hidden = outs.get(0).lastHiddenState();
        }
        hidden = hidden.contiguous();
        int tokens = (int) hidden.size(1);
        int width = (int) hidden.size(2);
        float[] h = Tensors.toFloats(hidden);
        float[] p = pooled == null ? null : Tensors.toFloats(pooled.contiguous());
        long[] m = t5Mask == null ? null : Tensors.toLongs(t5Mask);
        List<EncodedPrompt> out = new ArrayList<>();
        int per = tokens * width;
        for (int r = 0; r < prompts.size(); r++) {
            float[] hr = java.util.Arrays.copyOfRange(h, r * per, (r + 1) * per);
            float[] pr = null;
            if (p != null) {
                int pw = p.length / prompts.size();
                pr = java.util.Arrays.copyOfRange(p, r * pw, (r + 1) * pw);
            }
            long[] mr = m == null ? null : java.util.Arrays.copyOfRange(m, r * tokens, (r + 1) * tokens);
            out.add(new EncodedPrompt(hr, tokens, width, pr, mr, truncated[r]));
        }
        return out;
    }

    private Tensor projected(TextEncoderOutput o, int stage) {
        if (o.textEmbeds() == null) {
            throw new IllegalStateException(stages.get(stage).encoderDir + ": " + stages.get(stage).encoder.className()
                    + " has no text projection, but SD3's pooled vector is both CLIPs' text_embeds "
                    + "(expected CLIPTextModelWithProjection)");
        }
        return o.textEmbeds();
    }

    /** Frees the tokenizers; idempotent. */
    @Override
    public void close() {
        stages.forEach(s -> s.tokenizer.close());
    }
}
