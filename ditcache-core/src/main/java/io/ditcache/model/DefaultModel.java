package io.ditcache.model;

import io.ditcache.io.Checkpoint;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import java.io.IOException;

/**
 * The embedded default model, shipped inside the jar as a diffusers checkpoint under {@value #RESOURCE_DIR}: a
 * class-conditional DiT trained on MNIST by ditcache's own trainer ({@code ditcache train}; its model card,
 * {@code MODEL_CARD.md}, sits beside the weights). Layout {@link #CONFIG}: pixel space, 1 channel, 28×28, patch 4
 * (49 tokens), 6 blocks, 4 heads × 32, 10 classes plus the null class, epsilon output.
 *
 * <p>{@link #randomReference()} gives the same layout with random weights, the baseline a trained model's
 * redundancy is compared with.
 */
public final class DefaultModel {
    /** Classpath directory of the checkpoint. */
    public static final String RESOURCE_DIR = "io/ditcache/default-model";
    /** Name recorded in profiles. */
    public static final String NAME = "ditcache-default";
    /** Seed of {@link #randomReference()}. */
    public static final long SEED = 20261126L;
    /** Layout of the default. */
    public static final DiTConfig CONFIG = new DiTConfig(28, 4, 1, 1, 6, 4, 32, 10, 1e-5, true);

    private DefaultModel() {
    }

    /** Opens the embedded checkpoint. */
    public static Checkpoint open() throws IOException {
        return Checkpoint.openResource(RESOURCE_DIR, DefaultModel.class.getClassLoader());
    }

    /** Loads the embedded checkpoint. */
    public static DiTModel load() throws IOException {
        try (Checkpoint c = open()) {
            return ModelLoader.load(c);
        }
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
