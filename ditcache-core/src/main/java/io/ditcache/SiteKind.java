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
    MODULATED_INPUT;

    /** The short name of each kind, as {@code run --capture} names its tensors ({@code block.3.k}). */
    private static final String[] SHORT = {"k", "v", "a", "mlp", "out", "residual", "modulated_input"};

    /** The short name: {@code k}, {@code v}, {@code a}, {@code mlp}, {@code out}, {@code residual}, ... */
    public String shortName() {
        return SHORT[ordinal()];
    }

    /**
     * The kind of a name, case-insensitive: its short name ({@code k}, {@code v}, {@code a} for the paper's three,
     * {@code mlp}, {@code out}, {@code residual}, {@code modulated_input}) or its full name ({@code ATTN_OUT}).
     *
     * @throws IllegalArgumentException naming the value and the names allowed
     */
    public static SiteKind parse(String name) {
        String n = name.trim();
        for (SiteKind k : values()) {
            if (k.name().equalsIgnoreCase(n) || k.shortName().equalsIgnoreCase(n)) {
                return k;
            }
        }
        throw new IllegalArgumentException("site kind \"" + name + "\": expected one of "
                + java.util.Arrays.stream(values()).map(k -> k.shortName() + " (" + k.name() + ")").toList());
    }
}
