package io.ditcache;

/**
 * A part of a transformer block whose output a cache can keep and inject instead of computing it (before the
 * block's gate and residual add, so the current step's gates still apply). Which parts a block has is declared by
 * its {@link Block}; a decision to reuse a part the block lacks is ignored.
 */
public enum BlockPart {
    /** Attention over the block's own tokens: DiT/PixArt self-attention, the image stream's half of a joint
     * attention (SD3, FLUX double, Mochi), FLUX single-stream attention, Latte/STDiT spatial or temporal
     * attention (the block's group says which). */
    SELF_ATTENTION,
    /** Attention from the image tokens to the text tokens (PixArt, Latte spatial, STDiT). */
    CROSS_ATTENTION,
    /** The image stream's feed-forward (FLUX single: the MLP branch before the fused projection). */
    FEED_FORWARD,
    /** The context (text) stream's half of a joint attention (SD3, FLUX double, Mochi). */
    CONTEXT_ATTENTION,
    /** The context stream's feed-forward (SD3, FLUX double, Mochi). */
    CONTEXT_FEED_FORWARD;

    /** Whether this part is an attention (self, cross or the context stream's). */
    public boolean isAttention() {
        return this == SELF_ATTENTION || this == CROSS_ATTENTION || this == CONTEXT_ATTENTION;
    }

    /** Whether this part is a feed-forward (either stream's). */
    public boolean isFeedForward() {
        return this == FEED_FORWARD || this == CONTEXT_FEED_FORWARD;
    }
}
