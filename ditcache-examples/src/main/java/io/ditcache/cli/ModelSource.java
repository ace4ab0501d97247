package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.model.DefaultModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --model DIR}, or the embedded default when it is absent. */
final class ModelSource {
    private ModelSource() {
    }

    static Checkpoint open(Path dir) throws IOException {
        if (dir == null) {
            return DefaultModel.open();
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("--model " + dir + ": not a directory (expected a diffusers checkpoint directory "
                    + "with config.json and *.safetensors)");
        }
        return Checkpoint.open(dir);
    }

    static String name(Path dir) {
        return dir == null ? DefaultModel.NAME : dir.toAbsolutePath().normalize().getFileName().toString();
    }
}
