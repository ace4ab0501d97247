package io.ditcache;

/** What is observed at a {@link Site}; exact capture points are defined in DESIGN.md. */
public enum SiteKind {
    /** Key projection after any k norm, before rotary embedding, heads merged. */
    K,
    /** Value projection, heads merged. */
    V,
    /** Attention module output after its output projection, before gate and residual. */
    ATTN_OUT,
    /** Feed-forward output before gate and residual. */
    MLP_OUT,
    /** Block output. */
    BLOCK_OUT,
    /** Block output minus block input. */
    BLOCK_RESIDUAL,
    /** Block 0's normalised, timestep-modulated input (TeaCache's signal). */
    MODULATED_INPUT
}
