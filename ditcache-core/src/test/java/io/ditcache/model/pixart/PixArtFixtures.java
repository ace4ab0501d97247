package io.ditcache.model.pixart;

import io.ditcache.model.Fixtures;
import java.nio.file.Path;

/** The diffusers PixArt fixture (3 blocks, 2 heads x 16, caption 32) laid out as a checkpoint directory. */
final class PixArtFixtures {
    static final String DIR = "/fixtures/diffusers/pixart/";

    private PixArtFixtures() {
    }

    /** config.json and the weights as diffusion_pytorch_model.safetensors in {@code dir}. */
    static Path checkpoint(Path dir) {
        Fixtures.copy(DIR + "config.json", dir.resolve("config.json"));
        Fixtures.copy(DIR + "model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
    }

    /** The golden tensors of one diffusers forward. */
    static Path golden(Path dir) {
        return Fixtures.copy(DIR + "golden.safetensors", dir.resolve("golden.safetensors"));
    }
}
