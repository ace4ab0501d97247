package io.ditcache.quality;

import io.ditcache.data.ImageSet;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

/**
 * Classifier features of a set of real images: what generated samples are compared with by the Fréchet distance.
 * Stored as safetensors: {@code features} F32 {@code [count, 128]} and {@code labels} I64 {@code [count]}, with
 * metadata naming the format, the classifier's {@linkplain DigitClassifier#fingerprint() fingerprint} (features
 * are only comparable under the classifier that made them) and optional reference distances
 * ({@value #REAL_FD_KEY}, the Fréchet distance of real training images to this set, at one or more sample counts).
 */
public final class ReferenceFeatures {
    /** Classpath resource of the embedded reference (the 10,000 MNIST test images). */
    public static final String RESOURCE = "io/ditcache/quality/mnist-test-features.safetensors";
    /** The {@code format} metadata value. */
    public static final String FORMAT = "ditcache-reference-features/1";
    /** Metadata key of the real-vs-reference distance at the largest count ({@value #REAL_FD_KEY}_n{count} for others). */
    public static final String REAL_FD_KEY = "fd_train_vs_test";
    /** Metadata key of the classifier's fingerprint. */
    public static final String CLASSIFIER_KEY = "classifier_sha256";

    private final float[] features;
    private final int[] labels;
    private final Map<String, String> metadata;
    private final String source;
    private FrechetDistance.Statistics statistics;

    private ReferenceFeatures(float[] features, int[] labels, Map<String, String> metadata, String source) {
        if (features.length != (long) labels.length * DigitClassifier.FEATURES) {
            throw new IllegalArgumentException(features.length + " feature values for " + labels.length
                    + " labels, expected " + DigitClassifier.FEATURES + " per label");
        }
        this.features = features;
        this.labels = labels;
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.source = source;
    }

    /** A real Fréchet distance and the sample count it was measured at. */
    public record RealDistance(int count, double fd) {
    }

    /**
     * The features of {@code images} under {@code classifier}.
     *
     * @param metadata extra metadata (for example where the images come from, under {@code data}, and
     *                 {@link #REAL_FD_KEY} values)
     * @throws IllegalArgumentException if {@code images} holds fewer than 2 images
     */
    public static ReferenceFeatures compute(DigitClassifier classifier, ImageSet images, Map<String, String> metadata) {
        if (images.size() < 2) {
            throw new IllegalArgumentException(metadata.getOrDefault("data", "the reference images") + ": "
                    + (images.size() == 0 ? "no images" : "1 image") + ", reference features need at least 2");
        }
        Map<String, String> md = new LinkedHashMap<>();
        md.put("format", FORMAT);
        md.put(CLASSIFIER_KEY, classifier.fingerprint());
        md.put("count", Integer.toString(images.size()));
        md.putAll(metadata);
        return new ReferenceFeatures(classifier.features(images.pixels(), images.size()), images.labels().clone(), md,
                md.getOrDefault("data", images.size() + " images"));
    }

    /**
     * The Fréchet distance of {@code count} real images (drawn from {@code real} without replacement) to this
     * reference: what a perfect generator would score at that sample count. The mean over up to {@code maxDraws}
     * disjoint draws, as many as {@code real} holds; the draws come from a permutation seeded by {@code seed}.
     *
     * @throws IllegalArgumentException if {@code count < 2} or {@code real} has fewer than {@code count} images
     */
    public RealDistance measureRealDistance(DigitClassifier classifier, ImageSet real, int count, int maxDraws,
            long seed) {
        checkMadeBy(classifier);
        if (count < 2 || count > real.size()) {
            throw new IllegalArgumentException("count " + count + ": expected 2.." + real.size() + " (the real images)");
        }
        int draws = Math.max(1, Math.min(maxDraws, real.size() / count));
        int[] order = permutation(real.size(), seed);
        int px = DigitClassifier.PIXELS;
        double sum = 0;
        for (int d = 0; d < draws; d++) {
            float[] images = new float[count * px];
            for (int i = 0; i < count; i++) {
                System.arraycopy(real.pixels(), order[d * count + i] * px, images, i * px, px);
            }
            float[] f = classifier.features(images, count);
            sum += FrechetDistance.between(FrechetDistance.Statistics.of(f, count, DigitClassifier.FEATURES),
                    statistics());
        }
        return new RealDistance(count, sum / draws);
    }

    /**
     * The Fréchet distance of {@code count} of these reference features (drawn without replacement) to all of them:
     * what real images score at that sample count when no other real images are at hand. The draw is part of the
     * set it is compared with, which lowers the distance by a share of about {@code count / count()} (negligible
     * for a few hundred of 10,000); the small-count bias, the reason to compare at equal counts, is the same. The
     * mean over up to {@code maxDraws} disjoint draws from a permutation seeded by {@code seed}.
     *
     * @throws IllegalArgumentException if {@code count < 2} or this set holds fewer than {@code count} features
     */
    public RealDistance measureSelfDistance(int count, int maxDraws, long seed) {
        if (count < 2 || count > count()) {
            throw new IllegalArgumentException("count " + count + ": expected 2.." + count() + " (the reference "
                    + "features)");
        }
        int draws = Math.max(1, Math.min(maxDraws, count() / count));
        int[] order = permutation(count(), seed);
        int width = DigitClassifier.FEATURES;
        double sum = 0;
        for (int d = 0; d < draws; d++) {
            float[] f = new float[count * width];
            for (int i = 0; i < count; i++) {
                System.arraycopy(features, order[d * count + i] * width, f, i * width, width);
            }
            sum += FrechetDistance.between(FrechetDistance.Statistics.of(f, count, width), statistics());
        }
        return new RealDistance(count, sum / draws);
    }

    private static int[] permutation(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /**
     * These features with the distances recorded in the metadata: {@value #REAL_FD_KEY}{@code _n<count>} for each,
     * and {@value #REAL_FD_KEY} with {@value #REAL_FD_KEY}{@code _count} for the largest count.
     */
    public ReferenceFeatures withRealDistances(List<RealDistance> distances) {
        Map<String, String> md = new LinkedHashMap<>(metadata);
        RealDistance largest = null;
        for (RealDistance d : distances) {
            md.put(REAL_FD_KEY + "_n" + d.count(), Double.toString(d.fd()));
            largest = largest == null || d.count() > largest.count() ? d : largest;
        }
        if (largest != null) {
            md.put(REAL_FD_KEY, Double.toString(largest.fd()));
            md.put(REAL_FD_KEY + "_count", Integer.toString(largest.count()));
        }
        return new ReferenceFeatures(features, labels, md, source);
    }

    /** Reads a file written by {@link #write}. */
    public static ReferenceFeatures read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return read(f);
        }
    }

    /** Reads features from an open safetensors file. */
    public static ReferenceFeatures read(SafetensorsFile f) throws CheckpointException {
        String format = f.metadata().get("format");
        if (!FORMAT.equals(format)) {
            throw new CheckpointException(f.source() + ": metadata format is "
                    + (format == null ? "absent" : "'" + format + "'") + ", expected '" + FORMAT + "'");
        }
        for (String name : new String[] {"features", "labels"}) {
            if (!f.contains(name)) {
                throw new CheckpointException(f.source() + ": no tensor '" + name + "' (has " + f.names() + ")");
            }
        }
        long[] fs = f.info("features").dims();
        long[] ls = f.info("labels").dims();
        if (fs.length == 2 && fs[0] < 2) {
            throw new CheckpointException(f.source() + ": tensor 'features' " + Arrays.toString(fs) + " holds "
                    + (fs[0] == 0 ? "no images" : "1 image") + ", a reference needs at least 2");
        }
        if (fs.length != 2 || fs[1] != DigitClassifier.FEATURES || fs[0] < 2 || ls.length != 1 || ls[0] != fs[0]) {
            throw new CheckpointException(f.source() + ": tensors 'features' " + Arrays.toString(fs) + " and 'labels' "
                    + Arrays.toString(ls) + ", expected [count >= 2, " + DigitClassifier.FEATURES + "] and [count]");
        }
        try {
            long[] l = f.longs("labels");
            int[] labels = new int[l.length];
            for (int i = 0; i < l.length; i++) {
                labels[i] = (int) l[i];
            }
            float[] features = f.floats("features");
            int bad = FrechetDistance.nonFiniteRows(features, labels.length, DigitClassifier.FEATURES);
            if (bad > 0) {
                throw new CheckpointException(f.source() + ": tensor 'features' has " + bad + " of " + labels.length
                        + " rows with NaN or infinite values, expected finite features");
            }
            return new ReferenceFeatures(features, labels, f.metadata(), f.source());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    /**
     * The embedded reference, {@value #RESOURCE}.
     *
     * @throws CheckpointException if the resource is absent or invalid
     */
    public static ReferenceFeatures loadDefault() throws IOException {
        return loadDefault(ReferenceFeatures.class.getClassLoader());
    }

    static ReferenceFeatures loadDefault(ClassLoader loader) throws IOException {
        ByteBuffer bytes = DigitClassifier.resource(loader, RESOURCE, "no embedded reference features (classpath:"
                + RESOURCE + "); make them with io.ditcache.examples.TrainClassifier");
        try (SafetensorsFile f = SafetensorsFile.open(bytes, "classpath:" + RESOURCE)) {
            return read(f);
        }
    }

    /** Writes the features, labels and metadata atomically. */
    public void write(Path file) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        metadata.forEach(w::metadata);
        long[] l = new long[labels.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels[i];
        }
        w.put("features", features, labels.length, DigitClassifier.FEATURES).put("labels", l, labels.length);
        w.write(file);
    }

    /** Number of images. */
    public int count() {
        return labels.length;
    }

    /** Row-major {@code [count, 128]} (a copy). */
    public float[] features() {
        return features.clone();
    }

    /** Class of each image (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** Mean and covariance of the features, computed once. */
    public synchronized FrechetDistance.Statistics statistics() {
        if (statistics == null) {
            statistics = FrechetDistance.Statistics.of(features, count(), DigitClassifier.FEATURES);
        }
        return statistics;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The file or resource these features were read from, or how they were made. */
    public String source() {
        return source;
    }

    /**
     * Throws unless these features were made by {@code classifier} (same fingerprint); features of another
     * classifier make the Fréchet distance meaningless.
     */
    public void checkMadeBy(DigitClassifier classifier) {
        String want = metadata.get(CLASSIFIER_KEY);
        String have = classifier.fingerprint();
        if (!have.equals(want)) {
            throw new IllegalArgumentException(source + " were made by classifier sha256 " + want + ", not by "
                    + classifier.source() + " (sha256 " + have + "); use the matching pair");
        }
    }

    /** The stored real-vs-reference distance measured at exactly {@code samples}, if one was stored. */
    public Optional<RealDistance> realDistanceAt(int samples) {
        return realDistance(samples).filter(d -> d.count() == samples);
    }

    /**
     * The stored real-vs-reference distance whose sample count is nearest to {@code samples} (on a log scale),
     * if any was stored.
     */
    public Optional<RealDistance> realDistance(int samples) {
        TreeMap<Integer, Double> byCount = new TreeMap<>();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            String k = e.getKey();
            try {
                if (k.startsWith(REAL_FD_KEY + "_n")) {
                    byCount.put(Integer.parseInt(k.substring(REAL_FD_KEY.length() + 2)), Double.parseDouble(e.getValue()));
                }
            } catch (NumberFormatException ignored) {
                // a malformed entry is not a reference point
            }
        }
        if (byCount.isEmpty() && metadata.containsKey(REAL_FD_KEY)) {
            try {
                int n = Integer.parseInt(metadata.getOrDefault(REAL_FD_KEY + "_count", Integer.toString(count())));
                byCount.put(n, Double.parseDouble(metadata.get(REAL_FD_KEY)));
            } catch (NumberFormatException ignored) {
                return Optional.empty();
            }
        }
        RealDistance best = null;
        for (Map.Entry<Integer, Double> e : byCount.entrySet()) {
            double gap = Math.abs(Math.log(e.getKey()) - Math.log(Math.max(1, samples)));
            if (best == null || gap < Math.abs(Math.log(best.count()) - Math.log(Math.max(1, samples)))) {
                best = new RealDistance(e.getKey(), e.getValue());
            }
        }
        return Optional.ofNullable(best);
    }
}
