package io.ditcache.model.text;

/**
 * How {@link PromptTokenizer#encode} pads and truncates, and what it refuses.
 *
 * @param maxLength  the length every row is padded to, special tokens included (CLIP 77; T5 the pipeline's
 *                   {@code max_sequence_length}: FLUX 512 (FLUX.1-schnell is run with 256), SD3 256, PixArt-α 120,
 *                   CogVideoX 226, Mochi 256); longer
 *                   prompts are truncated to it, keeping the special tokens, as the pipelines' tokenizer calls do
 * @param strict     refuse a prompt longer than {@code maxLength} instead of truncating it (default false)
 * @param allowEmpty accept empty (and blank) prompts, such as CFG's default negative prompt {@code ""} (default
 *                   false: an empty or blank prompt is refused)
 * @param source     how messages name where the prompts came from, e.g. a prompts file (default "prompts")
 */
public record TokenizeOptions(int maxLength, boolean strict, boolean allowEmpty, String source) {
    public TokenizeOptions {
        if (maxLength < 2) {
            throw new IllegalArgumentException("max length is " + maxLength + ", expected at least 2 (room for the "
                    + "special tokens)");
        }
        source = source == null || source.isBlank() ? "prompts" : source;
    }

    /** Padding and truncation to {@code maxLength}, not strict, empty prompts refused, source "prompts". */
    public static TokenizeOptions maxLength(int maxLength) {
        return new TokenizeOptions(maxLength, false, false, null);
    }

    /** These options, refusing prompts longer than the maximum instead of truncating them. */
    public TokenizeOptions strictLength() {
        return new TokenizeOptions(maxLength, true, allowEmpty, source);
    }

    /** These options, accepting empty prompts. */
    public TokenizeOptions allowingEmpty() {
        return new TokenizeOptions(maxLength, strict, true, source);
    }

    /** These options with messages naming {@code source} as where the prompts came from. */
    public TokenizeOptions from(String source) {
        return new TokenizeOptions(maxLength, strict, allowEmpty, source);
    }
}
