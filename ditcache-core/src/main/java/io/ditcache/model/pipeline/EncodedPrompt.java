package io.ditcache.model.pipeline;

/**
 * One prompt's conditioning as its pipeline builds it, float32 and int64 on the heap.
 *
 * @param hidden {@code encoder_hidden_states [tokens, width]}, row after row
 * @param tokens tokens
 * @param width  width of each token's embedding
 * @param pooled {@code pooled_projections [width]} (SD3, FLUX), or null
 * @param mask   {@code encoder_attention_mask [tokens]} (PixArt, Mochi: 1 = token, 0 = padding), or null
 * @param truncation how the prompt was cut to a tokenizer's maximum, e.g. {@code "149 tokens long with
 *                   .../tokenizer.json, more than 77"}, or null when it fitted
 */
public record EncodedPrompt(float[] hidden, int tokens, int width, float[] pooled, long[] mask, String truncation) {
    public EncodedPrompt {
        if (hidden.length != (long) tokens * width) {
            throw new IllegalArgumentException("hidden states of " + hidden.length + " values, expected " + tokens
                    + " x " + width);
        }
        if (mask != null && mask.length != tokens) {
            throw new IllegalArgumentException("mask of " + mask.length + " values, expected " + tokens);
        }
    }
}
