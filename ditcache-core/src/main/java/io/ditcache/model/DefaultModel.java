package io.ditcache.model;

import io.ditcache.io.Checkpoint;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import java.io.IOException;

/**
 * The embedded default model, shipped inside the jar as a diffusers checkpoint under {@value #RESOURCE_DIR}.
 *
 * <p>Until the trained default lands it is made by a seeded recipe ({@link #recipe()}): the DiT layout of
 * {@link #CONFIG} (pixel space, 1 channel, 28×28, patch 4, 6 blocks, 4 heads × 32, 10 classes, learned sigma)
 * with {@link DiTInit#variancePreserving} weights from seed {@value #SEED}. {@code MakeDefaultModel} in the
 * examples writes it; a test checks the shipped weights equal the recipe bit for bit.
 */
public final class DefaultModel {
    /** Classpath directory of the checkpoint. */
    public static final String RESOURCE_DIR = "io/ditcache/default-model";
    /** Name recorded in profiles. */
    public static final String NAME = "ditcache-default";
    /** Seed of the recipe. */
    public static final long SEED = 20261126L;
    /** Layout of the default. */
    public static final DiTConfig CONFIG = new DiTConfig(28, 4, 1, 2, 6, 4, 32, 10, 1e-5, true);

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

    /** Builds the default from its recipe (what {@link #load()} returns, made afresh). */
    public static DiTModel recipe() {
        DiTModel m = new DiTModel(CONFIG);
        DiTInit.variancePreserving(m, SEED);
        return m;
    }
}
