package io.ditcache.model.pipeline;

import io.ditcache.io.CheckpointException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a published diffusers pipeline turns prompts into a transformer's conditioning: its text encoders, the T5
 * sequence length it pads to ({@code max_sequence_length}), whether T5 sees the attention mask (and the transformer
 * gets it), and whether it encodes negative prompts for classifier-free guidance (the empty prompt {@code ""} by
 * default).
 */
public enum PipelineKind {
    /** FluxPipeline: CLIP's {@code pooler_output} as pooled, T5's sequence (512 tokens, no mask); no negatives. */
    FLUX(List.of("FluxPipeline"), 512, false, false, false),
    /**
     * StableDiffusion3Pipeline: both CLIPs' penultimate states side by side, zero-padded to T5's width, then T5's
     * 256 tokens after them; pooled = both projections; negatives.
     */
    SD3(List.of("StableDiffusion3Pipeline"), 256, false, true, false),
    /** PixArtAlphaPipeline: T5 with its mask, 120 tokens, prompts lower-cased; negatives. */
    PIXART_ALPHA(List.of("PixArtAlphaPipeline"), 120, true, true, true),
    /** PixArtSigmaPipeline: as α with 300 tokens. */
    PIXART_SIGMA(List.of("PixArtSigmaPipeline"), 300, true, true, true),
    /** CogVideoXPipeline: T5, 226 tokens, no mask; negatives. */
    COGVIDEOX(List.of("CogVideoXPipeline"), 226, false, true, false),
    /** MochiPipeline: T5 with its mask, 256 tokens; negatives. */
    MOCHI(List.of("MochiPipeline"), 256, true, true, false);

    private final List<String> classNames;
    private final int sequenceLength;
    private final boolean masked;
    private final boolean negatives;
    private final boolean lowerCase;

    PipelineKind(List<String> classNames, int sequenceLength, boolean masked, boolean negatives, boolean lowerCase) {
        this.classNames = classNames;
        this.sequenceLength = sequenceLength;
        this.masked = masked;
        this.negatives = negatives;
        this.lowerCase = lowerCase;
    }

    /**
     * The kind of a pipeline folder, by its index's {@code _class_name}.
     *
     * @throws CheckpointException naming the index for a pipeline ditcache cannot condition
     */
    public static PipelineKind of(PipelineFolder p) throws CheckpointException {
        for (PipelineKind k : values()) {
            if (k.classNames.contains(p.className())) {
                return k;
            }
        }
        throw new CheckpointException(p.index() + ": _class_name \"" + p.className() + "\" is a pipeline whose "
                + "prompts ditcache cannot encode, expected one of " + names() + "; give --embeddings FILE instead");
    }

    /** The pipeline classes known, for messages. */
    public static String names() {
        return Arrays.stream(values()).flatMap(k -> k.classNames.stream()).collect(Collectors.joining(", "));
    }

    /** T5's {@code max_sequence_length} default in the pipeline's {@code __call__}. */
    public int sequenceLength() {
        return sequenceLength;
    }

    /** Whether T5 is run with the attention mask, which is passed on as {@code encoder_attention_mask}. */
    public boolean masked() {
        return masked;
    }

    /** Whether the pipeline encodes a negative prompt for classifier-free guidance. */
    public boolean negatives() {
        return negatives;
    }

    /**
     * The text as the pipeline hands it to its tokenizer: PixArt's {@code _text_preprocessing} without
     * {@code clean_caption} lower-cases and strips (its {@code clean_caption}, which needs bs4 and ftfy, also removes
     * URLs, HTML and some punctuation, and is not reproduced); the others pass it as is.
     */
    public String preprocess(String prompt) {
        return lowerCase ? prompt.toLowerCase(Locale.ROOT).strip() : prompt;
    }
}
