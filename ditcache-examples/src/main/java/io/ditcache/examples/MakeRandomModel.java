package io.ditcache.examples;

import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.dit.DefaultDiT;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the random-weights reference of the default's layout ({@link DefaultDiT#randomReference()}) as a
 * checkpoint directory, for comparing a trained model's profile with an untrained one's.
 *
 * <p>With {@code --xl} it writes a model of DiT-XL/2's shape instead ({@link #XL}: 28 blocks of width 1152, 16
 * heads, 256 tokens of a 32 x 32 x 4 latent, 1000 classes; random weights, about 2.7 GB in float32), for measuring
 * what profiling costs at a real model's size.
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.MakeRandomModel runs/random-dit [--xl]</pre>
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

    /** DiT-XL/2 at 256 x 256 pixels: latent 32 x 32 x 4, patch 2, 28 blocks, 16 heads of 72, learned sigma. */
    public static final DiTConfig XL = new DiTConfig(32, 2, 4, 8, 28, 16, 72, 1000, 1e-6, true);

    /** Writes a random-weights model of DiT-XL/2's shape ({@link #XL}) into {@code dir} and returns it. */
    public static Path writeXl(Path dir) throws Exception {
        DiTModel m = new DiTModel(XL);
        DiTInit.variancePreserving(m, DefaultDiT.SEED);
        CheckpointWriter.save(m, dir, Map.of("format", "pt", "recipe", "DiT-XL/2 shape, "
                + "io.ditcache.model.dit.DiTInit.variancePreserving seed " + DefaultDiT.SEED));
        return dir;
    }

    public static void main(String[] args) throws Exception {
        boolean xl = java.util.Arrays.asList(args).contains("--xl");
        String named = java.util.Arrays.stream(args).filter(a -> !a.startsWith("--")).findFirst()
                .orElse("runs/random-dit");
        Path dir = Path.of(named);
        System.out.println("wrote " + (xl ? writeXl(dir) : write(dir)).toAbsolutePath());
    }
}
