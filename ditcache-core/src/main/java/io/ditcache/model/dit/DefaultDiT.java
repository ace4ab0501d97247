package io.ditcache.model.dit;

/**
 * The layout of the embedded default model ({@link io.ditcache.model.DefaultModel}), and the same layout with
 * random weights: the baseline a trained model's redundancy is compared with. Layout {@link #CONFIG}: pixel
 * space, 1 channel, 28×28, patch 4 (49 tokens), 6 blocks, 4 heads × 32, 10 classes plus the null class, epsilon
 * output.
 */
public final class DefaultDiT {
    /** Layout of the default. */
    public static final DiTConfig CONFIG = new DiTConfig(28, 4, 1, 1, 6, 4, 32, 10, 1e-5, true);
    /** Seed of {@link #randomReference()}. */
    public static final long SEED = 20261126L;

    private DefaultDiT() {
    }

    /**
     * The default's layout with random weights ({@link DiTInit#variancePreserving}, seed {@value #SEED}): every
     * block active, nothing learned.
     */
    public static DiTModel randomReference() {
        DiTModel m = new DiTModel(CONFIG);
        DiTInit.variancePreserving(m, SEED);
        return m;
    }
}
