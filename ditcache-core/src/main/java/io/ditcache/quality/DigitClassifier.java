package io.ditcache.quality;

import io.ditcache.data.ImageSet;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.train.AdamW;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A small CNN that classifies 28×28 single-channel digits with pixels in {@code [-1, 1]}: the judge of sample
 * quality (class accuracy) and the feature extractor of the Fréchet distance (its 128-d penultimate layer).
 *
 * <p>Layout: conv 1→32 3×3 pad 1, ReLU, max-pool 2; conv 32→64 3×3 pad 1, ReLU, max-pool 2; flatten 3136 →
 * linear 128, ReLU (the {@linkplain #features features}) → linear 10. The weights are plain tensors, trained with
 * functional ops; initialisation is PyTorch's default for these layers (uniform in ±1/sqrt(fan_in)) drawn from a
 * seeded CPU generator, so a seed gives the same classifier bit for bit.
 *
 * <p>An instance owns its weights: {@link #close()} frees them (idempotent); using a closed classifier throws
 * {@link IllegalStateException}. Inference is safe from several threads.
 */
public final class DigitClassifier implements AutoCloseable {
    /** Classpath resource of the embedded classifier (trained on MNIST's training split). */
    public static final String RESOURCE = "io/ditcache/quality/mnist-classifier.safetensors";
    /** The {@code format} metadata value of saved classifiers. */
    public static final String FORMAT = "ditcache-digit-classifier/1";
    /** Image side. */
    public static final int SIZE = 28;
    /** Pixels per image. */
    public static final int PIXELS = SIZE * SIZE;
    /** Length of a feature vector (the penultimate layer). */
    public static final int FEATURES = 128;
    /** Number of classes. */
    public static final int CLASSES = 10;
    /** The architecture, as recorded in saved files. */
    public static final String ARCHITECTURE = "conv3x3(1->32,pad1) relu maxpool2 conv3x3(32->64,pad1) relu maxpool2 "
            + "flatten linear(3136->128) relu [features] linear(128->10)";
    /** AdamW learning rate of {@link #train}. */
    public static final double LEARNING_RATE = 1e-3;
    /** AdamW decoupled weight decay of {@link #train} (PyTorch's default). */
    public static final double WEIGHT_DECAY = 1e-2;
    static final Map<String, long[]> SHAPES = shapes();
    private static final int INFERENCE_BATCH = 500;
    private static final long[] ONE = {1, 1};

    private final Map<String, Tensor> params;
    private final Map<String, String> info;
    private String source;
    private volatile boolean closed;

    /** Takes ownership of {@code params}: each gets one reference that {@link #close()} releases. */
    private DigitClassifier(Map<String, Tensor> params, Map<String, String> info, String source) {
        for (Tensor t : params.values()) {
            t.retainReference(); // survives any PointerScope open while it was made
        }
        this.params = Collections.unmodifiableMap(params);
        this.info = new LinkedHashMap<>(info);
        this.source = source;
    }

    /** Reports training progress. */
    @FunctionalInterface
    public interface TrainingListener {
        /** After each optimiser step; {@code batch} counts from 0 within the epoch. */
        void onStep(int epoch, int batch, int batches, double loss);
    }

    /** A freshly initialised (untrained) classifier. */
    public static DigitClassifier initialised(long seed) {
        Generator gen = torch.createCPUGenerator(seed);
        Map<String, Tensor> p = new LinkedHashMap<>();
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
                long[] shape = e.getValue();
                String layer = e.getKey().substring(0, e.getKey().indexOf('.'));
                double bound = 1 / Math.sqrt(fanIn(SHAPES.get(layer + ".weight")));
                Tensor u = torch.rand(shape, new GeneratorOptional(gen), new TensorOptions(ScalarType.Float));
                Tensor t = u.mul(new Scalar(2 * bound)).sub(new Scalar(bound));
                t.set_requires_grad(true);
                p.put(e.getKey(), t);
            }
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("init_seed", Long.toString(seed));
        return new DigitClassifier(p, info, "initialised from seed " + seed);
    }

    /**
     * Trains a classifier on {@code data}: cross-entropy, AdamW ({@value #LEARNING_RATE}, weight decay
     * {@value #WEIGHT_DECAY}), the images reshuffled every epoch by a {@link Random} seeded with {@code seed}, the
     * last batch of an epoch possibly smaller.
     *
     * @throws IllegalArgumentException if the images are not 28×28, the set is empty or a count is below 1
     * @throws IllegalStateException    if the loss stops being finite
     */
    public static DigitClassifier train(ImageSet data, int epochs, int batch, long seed, TrainingListener listener) {
        Objects.requireNonNull(listener, "listener");
        checkImageSet(data);
        if (data.size() == 0) {
            throw new IllegalArgumentException("no training images");
        }
        if (epochs < 1 || batch < 1) {
            throw new IllegalArgumentException("epochs and batch must be >= 1, got " + epochs + " and " + batch);
        }
        DigitClassifier c = initialised(seed);
        int n = data.size();
        int batches = (n + batch - 1) / batch;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random rnd = new Random(seed);
        double epochLoss = Double.NaN;
        long step = 0;
        try (PointerScope optimiserScope = new PointerScope()) {
            AdamW adam = new AdamW(new ArrayList<>(c.params.values()));
            for (int epoch = 0; epoch < epochs; epoch++) {
                shuffle(order, rnd);
                double sum = 0;
                for (int bi = 0; bi < batches; bi++) {
                    int from = bi * batch;
                    int k = Math.min(batch, n - from);
                    float[] x = new float[k * PIXELS];
                    long[] y = new long[k];
                    for (int i = 0; i < k; i++) {
                        int src = order[from + i];
                        System.arraycopy(data.pixels(), src * PIXELS, x, i * PIXELS, PIXELS);
                        y[i] = data.labels()[src];
                    }
                    double loss;
                    try (PointerScope scope = new PointerScope()) {
                        Tensor logits = c.logits(Tensors.fromFloats(x, k, 1, SIZE, SIZE));
                        Tensor l = torch.nll_loss(torch.log_softmax(logits, 1), Tensors.fromLongs(y, k));
                        l.backward();
                        loss = l.item_double();
                        if (!Double.isFinite(loss)) {
                            throw new IllegalStateException("loss is " + loss + " at epoch " + (epoch + 1)
                                    + " batch " + (bi + 1));
                        }
                        adam.step(++step, LEARNING_RATE, WEIGHT_DECAY);
                    }
                    sum += loss * k;
                    listener.onStep(epoch, bi, batches, loss);
                }
                epochLoss = sum / n;
            }
        }
        for (Tensor p : c.params.values()) {
            p.mutable_grad().reset(); // the gradients are no longer needed
        }
        c.info.put("train_images", Integer.toString(n));
        c.info.put("epochs", Integer.toString(epochs));
        c.info.put("batch", Integer.toString(batch));
        c.info.put("seed", Long.toString(seed));
        c.info.put("optimizer", String.format(Locale.ROOT, "AdamW lr %s weight_decay %s betas 0.9,0.999",
                LEARNING_RATE, WEIGHT_DECAY));
        c.info.put("final_epoch_loss", Double.toString(epochLoss));
        c.source = "trained from seed " + seed;
        return c;
    }

    /**
     * Predicted classes of {@code count} images (row-major {@code [count, 28, 28]}, pixels in {@code [-1, 1]}).
     */
    public int[] predict(float[] images, int count) {
        checkImages(images, count);
        int[] out = new int[count];
        forEachBatch(images, count, (x, from, k) -> {
            long[] a = Tensors.toLongs(logits(x).argmax(new LongOptional(1), false));
            for (int i = 0; i < k; i++) {
                out[from + i] = (int) a[i];
            }
        });
        return out;
    }

    /** Penultimate features of {@code count} images: row-major {@code [count, 128]}. */
    public float[] features(float[] images, int count) {
        checkImages(images, count);
        float[] out = new float[count * FEATURES];
        forEachBatch(images, count, (x, from, k) -> {
            float[] f = Tensors.toFloats(features(x));
            System.arraycopy(f, 0, out, from * FEATURES, f.length);
        });
        return out;
    }

    /** The share of {@code data}'s images whose predicted class is their label. */
    public double accuracy(ImageSet data) {
        checkImageSet(data);
        if (data.size() == 0) {
            throw new IllegalArgumentException("no images");
        }
        int[] p = predict(data.pixels(), data.size());
        int right = 0;
        for (int i = 0; i < p.length; i++) {
            right += p[i] == data.labels()[i] ? 1 : 0;
        }
        return (double) right / p.length;
    }

    /**
     * Writes the weights (F32) with metadata {@code format}, {@code architecture}, {@code sha256} (see
     * {@link #fingerprint()}) and the training information of {@link #info()}; atomically.
     */
    public void save(Path file) throws IOException {
        save(file, Map.of());
    }

    /** As {@link #save(Path)}, with {@code extra} metadata (for example a test accuracy) after the training info. */
    public void save(Path file, Map<String, String> extra) throws IOException {
        checkOpen();
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", FORMAT).metadata("architecture", ARCHITECTURE)
                .metadata("sha256", fingerprint());
        info.forEach(w::metadata);
        extra.forEach(w::metadata);
        params.forEach(w::put);
        w.write(file);
    }

    /**
     * Reads a classifier written by {@link #save}.
     *
     * @throws CheckpointException naming the file and the offending key if the format, the tensor names or the
     *                             shapes do not match
     */
    public static DigitClassifier load(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return load(f);
        }
    }

    /** Reads a classifier from an open safetensors file; see {@link #load(Path)}. */
    public static DigitClassifier load(SafetensorsFile f) throws CheckpointException {
        String format = f.metadata().get("format");
        if (!FORMAT.equals(format)) {
            throw new CheckpointException(f.source() + ": metadata format is "
                    + (format == null ? "absent" : "'" + format + "'") + ", expected '" + FORMAT
                    + "' (not a digit classifier?)");
        }
        TreeSet<String> missing = new TreeSet<>(SHAPES.keySet());
        missing.removeAll(f.names());
        TreeSet<String> unexpected = new TreeSet<>(f.names());
        unexpected.removeAll(SHAPES.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new CheckpointException(f.source() + ": tensors do not match the digit classifier: missing "
                    + missing + ", unexpected " + unexpected);
        }
        for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
            var ti = f.info(e.getKey());
            if (!ti.dtype().isFloatingPoint()) {
                throw new CheckpointException(f.source() + ": tensor '" + e.getKey() + "' is " + ti.dtype()
                        + ", expected a float type");
            }
            if (!Arrays.equals(ti.dims(), e.getValue())) {
                throw new CheckpointException(f.source() + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(ti.dims()) + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        Map<String, Tensor> p = new LinkedHashMap<>();
        for (String name : SHAPES.keySet()) {
            p.put(name, f.load(name));
        }
        Map<String, String> info = new LinkedHashMap<>(f.metadata());
        info.keySet().removeAll(List.of("format", "architecture", "sha256"));
        DigitClassifier c = new DigitClassifier(p, info, f.source());
        String sha = f.metadata().get("sha256");
        if (sha != null && !sha.equals(c.fingerprint())) {
            c.close();
            throw new CheckpointException(f.source() + ": weights have sha256 " + c.fingerprint()
                    + ", but the metadata records " + sha + " (file altered?)");
        }
        return c;
    }

    /**
     * The embedded classifier, {@value #RESOURCE}.
     *
     * @throws CheckpointException if the resource is absent or invalid
     */
    public static DigitClassifier loadDefault() throws IOException {
        return loadDefault(DigitClassifier.class.getClassLoader());
    }

    static DigitClassifier loadDefault(ClassLoader loader) throws IOException {
        ByteBuffer bytes = resource(loader, RESOURCE, "no embedded classifier (classpath:" + RESOURCE
                + "); train one with io.ditcache.examples.TrainClassifier");
        try (SafetensorsFile f = SafetensorsFile.open(bytes, "classpath:" + RESOURCE)) {
            return load(f);
        }
    }

    /** Training information from the file's metadata (seed, epochs, images, loss), without format keys. */
    public Map<String, String> info() {
        return Collections.unmodifiableMap(info);
    }

    /** Where the weights came from: a file, a classpath resource or a seed. */
    public String source() {
        return source;
    }

    /** SHA-256 of the weights (names, shapes and float32 values in little-endian order), as hex. */
    public String fingerprint() {
        checkOpen();
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                md.update(Arrays.toString(Tensors.shape(e.getValue())).getBytes(StandardCharsets.UTF_8));
                float[] v;
                try (PointerScope scope = new PointerScope()) {
                    v = Tensors.toFloats(e.getValue().detach());
                }
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Frees the weights; idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            for (Tensor t : params.values()) {
                t.releaseReference();
            }
        }
    }

    @Override
    public String toString() {
        return "DigitClassifier[" + source + (closed ? ", closed]" : "]");
    }

    /** Logits {@code [B, 10]} of images {@code [B, 1, 28, 28]}. */
    Tensor logits(Tensor x) {
        return torch.linear(features(x), p("fc2.weight"), new TensorOptional(p("fc2.bias")));
    }

    /** Penultimate features {@code [B, 128]} of images {@code [B, 1, 28, 28]}. */
    Tensor features(Tensor x) {
        Tensor h = torch.conv2d(x, p("conv1.weight"), new TensorOptional(p("conv1.bias")), ONE, ONE, ONE, 1);
        h = torch.max_pool2d(torch.relu(h), 2, 2);
        h = torch.conv2d(h, p("conv2.weight"), new TensorOptional(p("conv2.bias")), ONE, ONE, ONE, 1);
        h = torch.max_pool2d(torch.relu(h), 2, 2);
        h = h.flatten(1, -1);
        return torch.relu(torch.linear(h, p("fc1.weight"), new TensorOptional(p("fc1.bias"))));
    }

    private Tensor p(String name) {
        return params.get(name);
    }

    private interface BatchBody {
        void run(Tensor images, int from, int count);
    }

    private void forEachBatch(float[] images, int count, BatchBody body) {
        checkOpen();
        try (InferenceMode mode = new InferenceMode()) {
            for (int from = 0; from < count; from += INFERENCE_BATCH) {
                int k = Math.min(INFERENCE_BATCH, count - from);
                float[] x = Arrays.copyOfRange(images, from * PIXELS, (from + k) * PIXELS);
                try (PointerScope scope = new PointerScope()) {
                    body.run(Tensors.fromFloats(x, k, 1, SIZE, SIZE), from, k);
                }
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private static void checkImages(float[] images, int count) {
        if (count < 0 || images.length != (long) count * PIXELS) {
            throw new IllegalArgumentException(images.length + " values, expected " + count + " images of " + SIZE
                    + "x" + SIZE + " = " + (long) count * PIXELS);
        }
    }

    private static void checkImageSet(ImageSet data) {
        if (data.height() != SIZE || data.width() != SIZE) {
            throw new IllegalArgumentException("images are " + data.height() + "x" + data.width()
                    + ", the digit classifier takes " + SIZE + "x" + SIZE);
        }
    }

    private static void shuffle(int[] a, Random rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static long fanIn(long[] weightShape) {
        long f = 1;
        for (int i = 1; i < weightShape.length; i++) {
            f *= weightShape[i];
        }
        return f;
    }

    static ByteBuffer resource(ClassLoader loader, String name, String missingMessage) throws IOException {
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new CheckpointException(missingMessage);
            }
            byte[] b = in.readAllBytes();
            return ByteBuffer.allocateDirect(b.length).put(b).flip();
        }
    }

    private static Map<String, long[]> shapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("conv1.weight", new long[] {32, 1, 3, 3});
        s.put("conv1.bias", new long[] {32});
        s.put("conv2.weight", new long[] {64, 32, 3, 3});
        s.put("conv2.bias", new long[] {64});
        s.put("fc1.weight", new long[] {FEATURES, 64 * 7 * 7});
        s.put("fc1.bias", new long[] {FEATURES});
        s.put("fc2.weight", new long[] {CLASSES, FEATURES});
        s.put("fc2.bias", new long[] {CLASSES});
        return Collections.unmodifiableMap(s);
    }
}
