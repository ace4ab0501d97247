package io.ditcache.examples;

import io.ditcache.data.ImageSet;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Makes the embedded quality resources: trains the {@link DigitClassifier} on MNIST's training split, reports its
 * test accuracy, and writes {@code mnist-classifier.safetensors} and {@code mnist-test-features.safetensors} (the
 * classifier's features of the test images, with the Fréchet distance of real training images to them at 100,
 * 1,000 and 10,000 samples, each the mean of up to 10 disjoint draws).
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.TrainClassifier \
 *     [DATA_DIR [OUT_DIR [EPOCHS]]]</pre>
 *
 * <p>Defaults: {@code data/mnist}, {@code ditcache-core/src/main/resources/io/ditcache/quality}, 3 epochs;
 * batch {@value #BATCH}, seed {@value #SEED}.
 */
public final class TrainClassifier {
    /** Default data folder (MNIST IDX files). */
    public static final String DATA = "data/mnist";
    /** Default output folder: the resources of ditcache-core. */
    public static final String OUT = "ditcache-core/src/main/resources/io/ditcache/quality";
    public static final int EPOCHS = 3;
    public static final int BATCH = 128;
    public static final long SEED = 0;
    /** Sample counts at which the real-image reference distance is measured. */
    static final int[] REAL_COUNTS = {100, 500, 1_000, 10_000};
    static final int DRAWS = 10;

    private TrainClassifier() {
    }

    /**
     * What was made.
     *
     * @param testAccuracy   the classifier's accuracy on the test split
     * @param realDistances  Fréchet distances of real training images to the test features, by sample count
     * @param classifierFile the classifier
     * @param featuresFile   the test features
     */
    public record Result(double testAccuracy, List<ReferenceFeatures.RealDistance> realDistances, Path classifierFile,
            Path featuresFile) {
    }

    /** Trains, measures and writes both files into {@code outDir}; progress goes to {@code log}. */
    public static Result run(Path data, Path outDir, int epochs, int batch, long seed, PrintStream log)
            throws IOException {
        ImageSet train = ImageSet.split(data, true);
        ImageSet test = ImageSet.split(data, false);
        log.printf(Locale.ROOT, "training the digit classifier on %d images (%d epochs, batch %d, seed %d)%n",
                train.size(), epochs, batch, seed);
        long start = System.nanoTime();
        double[] running = {Double.NaN};
        try (DigitClassifier classifier = DigitClassifier.train(train, epochs, batch, seed, (e, b, n, loss) -> {
            running[0] = Double.isNaN(running[0]) ? loss : 0.95 * running[0] + 0.05 * loss;
            if ((b + 1) % 100 == 0 || b + 1 == n) {
                log.printf(Locale.ROOT, "epoch %d/%d batch %d/%d loss %.4f (avg %.4f) %.0f s%n", e + 1, epochs, b + 1,
                        n, loss, running[0], (System.nanoTime() - start) / 1e9);
            }
        })) {
            double accuracy = classifier.accuracy(test);
            log.printf(Locale.ROOT, "test accuracy %.4f on %d images%n", accuracy, test.size());
            Files.createDirectories(outDir);
            Path classifierFile = outDir.resolve("mnist-classifier.safetensors");
            classifier.save(classifierFile, Map.of("data", data.getFileName() + " training split",
                    "test_accuracy", Double.toString(accuracy), "test_images", Integer.toString(test.size())));

            Map<String, String> md = new LinkedHashMap<>();
            md.put("data", "MNIST test split (t10k), " + test.size() + " images");
            md.put("real_fd_method", "Fréchet distance of N random training images (mean of up to " + DRAWS
                    + " disjoint draws, seed " + seed + ") to all reference features");
            ReferenceFeatures reference = ReferenceFeatures.compute(classifier, test, md);
            List<ReferenceFeatures.RealDistance> distances = new ArrayList<>();
            for (int n : REAL_COUNTS) {
                if (n <= Math.min(train.size(), test.size())) {
                    distances.add(reference.measureRealDistance(classifier, train, n, DRAWS, seed));
                }
            }
            if (distances.isEmpty()) { // a small data set: measure at its size
                distances.add(reference.measureRealDistance(classifier, train, Math.min(train.size(), test.size()),
                        DRAWS, seed));
            }
            for (ReferenceFeatures.RealDistance d : distances) {
                log.printf(Locale.ROOT, "FD of %d real training images vs the %d test images: %.3f%n", d.count(),
                        test.size(), d.fd());
            }
            Path featuresFile = outDir.resolve("mnist-test-features.safetensors");
            reference.withRealDistances(distances).write(featuresFile);
            log.println("wrote " + classifierFile.toAbsolutePath() + " and " + featuresFile.toAbsolutePath());
            return new Result(accuracy, distances, classifierFile, featuresFile);
        }
    }

    public static void main(String[] args) throws IOException {
        Path data = Path.of(args.length > 0 ? args[0] : DATA);
        Path out = Path.of(args.length > 1 ? args[1] : OUT);
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : EPOCHS;
        run(data, out, epochs, BATCH, SEED, System.out);
    }
}
