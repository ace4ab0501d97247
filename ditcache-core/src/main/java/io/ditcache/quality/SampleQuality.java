package io.ditcache.quality;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How good a set of class-conditional samples is, judged by a {@link DigitClassifier}.
 *
 * @param classAccuracy    share of samples the classifier assigns to the class they were requested for
 * @param fd               Fréchet distance of the samples' features to the reference features (lower is better;
 *                         biased upwards at small sample counts, so compare at equal counts)
 * @param samples          number of samples
 * @param referenceCount   number of reference images
 * @param perClassAccuracy accuracy per requested class, index = class; NaN for classes not requested
 */
public record SampleQuality(double classAccuracy, double fd, int samples, int referenceCount,
        List<Double> perClassAccuracy) {
    public SampleQuality {
        perClassAccuracy = Collections.unmodifiableList(new ArrayList<>(perClassAccuracy));
    }

    /**
     * Measures {@code count} generated images against reference features.
     *
     * @param images     row-major {@code [count, 28, 28]}, pixels in {@code [-1, 1]}
     * @param labels     the class requested for each image
     * @param classifier judge and feature extractor; must be the one that made {@code reference}
     * @param reference  real-image features (see {@link ReferenceFeatures#checkMadeBy})
     * @throws IllegalArgumentException if the sizes disagree, {@code count < 2}, a label is outside 0..9 or a
     *                                  pixel is NaN or infinite
     */
    public static SampleQuality measure(float[] images, int[] labels, DigitClassifier classifier,
            ReferenceFeatures reference) {
        reference.checkMadeBy(classifier);
        return measure(images, labels, classifier, reference.statistics());
    }

    /** As {@link #measure(float[], int[], DigitClassifier, ReferenceFeatures)}, against given statistics. */
    public static SampleQuality measure(float[] images, int[] labels, DigitClassifier classifier,
            FrechetDistance.Statistics reference) {
        int n = labels.length;
        if (n < 2) {
            throw new IllegalArgumentException(n + " samples, need at least 2 for a Fréchet distance");
        }
        if (images.length != (long) n * DigitClassifier.PIXELS) {
            throw new IllegalArgumentException(images.length + " pixel values for " + n + " labels, expected "
                    + (long) n * DigitClassifier.PIXELS);
        }
        int bad = FrechetDistance.nonFiniteRows(images, n, DigitClassifier.PIXELS);
        if (bad > 0) {
            throw new IllegalArgumentException(bad + " of " + n + " images have NaN or infinite pixels; class "
                    + "accuracy and Fréchet distance need finite samples");
        }
        int[] requested = new int[DigitClassifier.CLASSES];
        int[] right = new int[DigitClassifier.CLASSES];
        int[] predicted = classifier.predict(images, n);
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (y < 0 || y >= DigitClassifier.CLASSES) {
                throw new IllegalArgumentException("label " + y + " of sample " + i + " is outside 0.."
                        + (DigitClassifier.CLASSES - 1));
            }
            requested[y]++;
            right[y] += predicted[i] == y ? 1 : 0;
        }
        int total = 0;
        List<Double> perClass = new ArrayList<>();
        for (int c = 0; c < DigitClassifier.CLASSES; c++) {
            total += right[c];
            perClass.add(requested[c] == 0 ? Double.NaN : (double) right[c] / requested[c]);
        }
        float[] f = classifier.features(images, n);
        double fd = FrechetDistance.between(FrechetDistance.Statistics.of(f, n, DigitClassifier.FEATURES), reference);
        return new SampleQuality((double) total / n, fd, n, reference.count(), perClass);
    }
}
