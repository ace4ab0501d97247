package io.ditcache.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.ActivationProbe;
import io.ditcache.cli.DitCacheCommand;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.ModelLoader;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.train.TrainingOptions;
import io.ditcache.model.dit.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Makes a training run's EMA model the embedded default: measures it with {@code generate} (class accuracy, FD),
 * copies its weights into ditcache-core's resources with a model card and the loss curve, and records the samples
 * that {@code DefaultModelTest} checks bit for bit.
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.ShipDefaultModel RUN_DIR [GUIDANCE [SAMPLES]]</pre>
 */
public final class ShipDefaultModel {
    /** Where the embedded default lives in the source tree. */
    public static final Path RESOURCES = Path.of("ditcache-core/src/main/resources", DefaultModel.RESOURCE_DIR);
    /** The samples {@code DefaultModelTest} reproduces. */
    public static final Path GOLDEN = Path.of("ditcache-core/src/test/resources/fixtures/default-model-samples.safetensors");

    private ShipDefaultModel() {
    }

    /** The conditions and settings of the recorded samples (also written into the file's metadata). */
    static final List<Integer> GOLDEN_LABELS = List.of(0, 3, 7);
    static final List<Long> GOLDEN_SEEDS = List.of(0L, 1L);
    static final int GOLDEN_STEPS = 10;
    static final double GOLDEN_GUIDANCE = 1.25;

    /** Evaluates and ships; returns the metrics JSON of the evaluation. */
    public static JsonNode ship(Path run, double guidance, int samples) throws Exception {
        Path model = run.resolve(TrainingRun.MODEL);
        Path eval = run.resolve("eval");
        int rc = DitCacheCommand.commandLine().execute("generate", "--model", model.toString(), "--samples",
                Integer.toString(samples), "--steps", "50", "--scheduler", "ddim", "--guidance",
                Double.toString(guidance), "--out", eval.toString());
        if (rc != 0) {
            throw new IllegalStateException("generate failed with exit code " + rc);
        }
        JsonNode metrics = new ObjectMapper().readTree(eval.resolve("metrics.json").toFile());
        Files.createDirectories(RESOURCES);
        for (String f : List.of(Checkpoint.CONFIG, Checkpoint.WEIGHTS)) {
            Files.copy(model.resolve(f), RESOURCES.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.copy(eval.resolve("samples.png"), RESOURCES.resolve("samples.png"), StandardCopyOption.REPLACE_EXISTING);
        Path loss = run.resolve(TrainingRun.LOSS);
        String extra = String.format(Locale.ROOT, """
                ## Quality (50 DDIM steps, guidance %s, %d samples, classes 0..9 in turn)
                - class accuracy under the embedded digit classifier: %.4f
                - Fréchet distance of classifier features to the 10,000 MNIST test images: %.3f
                  (real training images score %s at %s samples: the reference point; FD grows as counts shrink)

                ![samples](samples.png)

                Made with `ditcache train --data data/mnist --out %s`, shipped with
                `io.ditcache.examples.ShipDefaultModel %s %s %d`.
                """, guidance, samples, metrics.path("class_accuracy").asDouble(), metrics.path("fd").asDouble(),
                metrics.path("fd_real").path("fd").asText("n/a"), metrics.path("fd_real").path("samples").asText("?"),
                run, run, guidance, samples);
        ModelCard.write(RESOURCES, "ditcache-default (MNIST DiT)", TrainingOptions.defaults(
                (int) ModelCard.readLoss(loss).get(ModelCard.readLoss(loss).size() - 1).step()), loss,
                wallSeconds(loss), extra);
        recordGolden(RESOURCES);
        return metrics;
    }

    /** Training wall time over all resumed segments (each segment's clock restarts at 0). */
    static double wallSeconds(Path loss) throws java.io.IOException {
        double total = 0;
        double last = 0;
        for (ModelCard.Row r : ModelCard.readLoss(loss)) {
            if (r.seconds() < last) {
                total += last;
            }
            last = r.seconds();
        }
        return total + last;
    }

    /** Samples the shipped checkpoint and stores the result for the bit-for-bit test. */
    static void recordGolden(Path modelDir) throws Exception {
        SamplingOptions options = new SamplingOptions(SamplingOptions.grid(GOLDEN_LABELS, GOLDEN_SEEDS), GOLDEN_STEPS,
                GOLDEN_GUIDANCE);
        Samples s = new Sampler(ModelLoader.load(modelDir), Schedulers.create("ddim", Map.of()))
                .sample(options, ActivationProbe.NONE);
        new SafetensorsWriter().metadata("format", "pt")
                .metadata("labels", GOLDEN_LABELS.stream().map(String::valueOf).collect(Collectors.joining(",")))
                .metadata("seeds", GOLDEN_SEEDS.stream().map(String::valueOf).collect(Collectors.joining(",")))
                .metadata("steps", Integer.toString(GOLDEN_STEPS)).metadata("guidance", Double.toString(GOLDEN_GUIDANCE))
                .metadata("scheduler", "ddim")
                .put("samples", s.values(), s.shape()).write(GOLDEN);
    }

    public static void main(String[] args) throws Exception {
        Path run = Path.of(args.length > 0 ? args[0] : "runs/mnist-dit");
        double guidance = args.length > 1 ? Double.parseDouble(args[1]) : 1.25;
        int samples = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        JsonNode m = ship(run, guidance, samples);
        System.out.println("shipped " + run + " as the default: class accuracy " + m.path("class_accuracy").asDouble()
                + ", fd " + m.path("fd").asDouble());
    }
}
