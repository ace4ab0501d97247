package io.ditcache.examples;

import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.dit.DefaultDiT;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the random-weights reference of the default's layout ({@link DefaultDiT#randomReference()}) as a
 * checkpoint directory, for comparing a trained model's profile with an untrained one's.
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.MakeRandomModel runs/random-dit</pre>
 */
public final class MakeRandomModel {
    private MakeRandomModel() {
    }

    /** Writes the checkpoint into {@code dir} and returns it. */
    public static Path write(Path dir) throws Exception {
        CheckpointWriter.save(DefaultDiT.randomReference(), dir, Map.of("format", "pt", "recipe",
                "io.ditcache.model.dit.DefaultDiT.randomReference() seed " + DefaultDiT.SEED));
        return dir;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "runs/random-dit");
        System.out.println("wrote " + write(dir).toAbsolutePath());
    }
}
