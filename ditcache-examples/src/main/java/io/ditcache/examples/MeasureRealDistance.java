package io.ditcache.examples;

import io.ditcache.data.ImageSet;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Adds a reference point to the embedded MNIST test features: the Fréchet distance that real training images
 * score at one more sample count, measured as {@link TrainClassifier} measures its counts (mean of up to
 * {@value TrainClassifier#DRAWS} disjoint draws, seed {@value TrainClassifier#SEED}), without retraining the
 * classifier. {@code generate} reports the stored count nearest to its sample count.
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.MeasureRealDistance data/mnist 500</pre>
 */
public final class MeasureRealDistance {
    private MeasureRealDistance() {
    }

    /** Measures at {@code count}, keeps the stored counts, writes the features into {@code out}; returns the new point. */
    public static ReferenceFeatures.RealDistance run(Path data, int count, Path out, PrintStream log)
            throws IOException {
        ImageSet train = ImageSet.split(data, true);
        try (DigitClassifier classifier = DigitClassifier.loadDefault()) {
            ReferenceFeatures reference = ReferenceFeatures.loadDefault();
            ReferenceFeatures.RealDistance measured = reference.measureRealDistance(classifier, train, count,
                    TrainClassifier.DRAWS, TrainClassifier.SEED);
            List<ReferenceFeatures.RealDistance> all = new ArrayList<>();
            TreeSet<Integer> counts = new TreeSet<>();
            for (int n : TrainClassifier.REAL_COUNTS) {
                reference.realDistance(n).filter(d -> d.count() == n && n != count).ifPresent(d -> {
                    all.add(d);
                    counts.add(n);
                });
            }
            all.add(measured);
            reference.withRealDistances(all).write(out.resolve("mnist-test-features.safetensors"));
            log.printf(Locale.ROOT, "real training images: FD %.3f at %d samples; kept %s%n", measured.fd(), count,
                    counts);
            return measured;
        }
    }

    public static void main(String[] args) throws IOException {
        Path data = Path.of(args.length > 0 ? args[0] : TrainClassifier.DATA);
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        run(data, count, Path.of(args.length > 2 ? args[2] : TrainClassifier.OUT), System.out);
    }
}
