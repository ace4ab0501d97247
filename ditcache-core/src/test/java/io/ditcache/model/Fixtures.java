package io.ditcache.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Copies test-resource fixtures into checkpoint directories laid out as users have them. */
public final class Fixtures {
    private Fixtures() {
    }

    /** A checkpoint dir in {@code dir} with the fixture DiT's config and weights as diffusion_pytorch_model.safetensors. */
    public static Path ditCheckpoint(Path dir) {
        copy("/fixtures/dit/config.json", dir.resolve("config.json"));
        copy("/fixtures/dit/model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
    }

    public static Path copy(String resource, Path target) {
        try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource missing: " + resource);
            }
            Files.createDirectories(target.toAbsolutePath().getParent());
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
