package io.ditcache.examples;

import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.DefaultModel;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the embedded default model from its seeded recipe into a checkpoint directory.
 *
 * <pre>java -cp ... io.ditcache.examples.MakeDefaultModel ditcache-core/src/main/resources/io/ditcache/default-model</pre>
 */
public final class MakeDefaultModel {
    private MakeDefaultModel() {
    }

    /** Writes the recipe's checkpoint into {@code dir} and returns it. */
    public static Path write(Path dir) throws Exception {
        CheckpointWriter.save(DefaultModel.recipe(), dir, Map.of("format", "pt", "recipe",
                "io.ditcache.model.DefaultModel.recipe() seed " + DefaultModel.SEED));
        return dir;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "ditcache-core/src/main/resources/" + DefaultModel.RESOURCE_DIR);
        System.out.println("wrote " + write(dir).toAbsolutePath());
    }
}
