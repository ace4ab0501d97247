package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.pipeline.PipelineFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --model DIR}, or the embedded default when it is absent. {@code DIR} is a transformer's checkpoint folder
 * or a diffusers pipeline folder ({@code model_index.json}), whose {@code transformer/} is opened (and whose
 * {@code scheduler/} configures sampling, see {@link Checkpoint#schedulerConfig()}).
 */
final class ModelSource {
    private ModelSource() {
    }

    static Checkpoint open(Path dir) throws IOException {
        if (dir == null) {
            return DefaultModel.open();
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("--model " + dir + ": not a directory (expected a diffusers checkpoint directory "
                    + "with config.json and *.safetensors, or a pipeline folder with model_index.json)");
        }
        if (PipelineFolder.isPipeline(dir)) {
            return Checkpoint.open(PipelineFolder.open(dir).transformer());
        }
        return Checkpoint.open(dir);
    }

    /** Whether {@code dir} is a diffusers pipeline folder. */
    static boolean pipeline(Path dir) {
        return PipelineFolder.isPipeline(dir);
    }

    static String name(Path dir) {
        return dir == null ? DefaultModel.NAME : dir.toAbsolutePath().normalize().getFileName().toString();
    }
}
