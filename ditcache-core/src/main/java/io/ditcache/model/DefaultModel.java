package io.ditcache.model;

import io.ditcache.io.Checkpoint;
import java.io.IOException;

/**
 * The embedded default model, shipped inside the jar as a diffusers checkpoint under {@value #RESOURCE_DIR}: a
 * class-conditional DiT trained on MNIST by ditcache's own trainer ({@code ditcache train}; its model card,
 * {@code MODEL_CARD.md}, sits beside the weights). Its layout, and the random-weights reference of that layout,
 * are the DiT family's ({@link io.ditcache.model.dit.DefaultDiT}).
 */
public final class DefaultModel {
    /** Classpath directory of the checkpoint. */
    public static final String RESOURCE_DIR = "io/ditcache/default-model";
    /** Name recorded in profiles. */
    public static final String NAME = "ditcache-default";

    private DefaultModel() {
    }

    /** Opens the embedded checkpoint. */
    public static Checkpoint open() throws IOException {
        return Checkpoint.openResource(RESOURCE_DIR, DefaultModel.class.getClassLoader());
    }

    /** Loads the embedded checkpoint. */
    public static Denoiser load() throws IOException {
        try (Checkpoint c = open()) {
            return ModelLoader.load(c);
        }
    }
}
