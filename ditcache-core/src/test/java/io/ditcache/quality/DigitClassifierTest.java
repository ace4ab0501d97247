package io.ditcache.quality;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.data.ImageSet;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigitClassifierTest {
    @TempDir
    static Path shared;
    static ImageSet slice;
    static DigitClassifier trained;
    static final List<Double> LOSSES = new ArrayList<>();

    @BeforeAll
    static void trainOneEpoch() throws IOException {
        slice = MnistSlice.read(shared);
        trained = DigitClassifier.train(slice, 1, 32, 5, (epoch, batch, batches, loss) -> {
            assertEquals(0, epoch);
            assertEquals(8, batches);
            LOSSES.add(loss);
        });
    }

    @AfterAll
    static void close() {
        trained.close();
    }

    @Test
    void oneEpochOnTheSliceTrains() {
        assertEquals(8, LOSSES.size(), "256 images in batches of 32");
        for (double l : LOSSES) {
            assertTrue(Double.isFinite(l) && l > 0, "loss " + l);
        }
        assertTrue(LOSSES.get(0) > 1.8 && LOSSES.get(0) < 2.8, "first loss near ln 10, got " + LOSSES.get(0));
        int[] p = trained.predict(slice.pixels(), slice.size());
        assertEquals(256, p.length);
        for (int c : p) {
            assertTrue(c >= 0 && c < 10, "class " + c);
        }
        double acc = trained.accuracy(slice);
        assertTrue(acc > 0.15, "8 steps already beat chance on their own data, got " + acc);
        assertEquals("256", trained.info().get("train_images"));
        assertEquals("1", trained.info().get("epochs"));
    }

    @Test
    void featuresAreTheRectifiedPenultimateLayer() {
        float[] f = trained.features(slice.image(0), 1);
        assertEquals(DigitClassifier.FEATURES, f.length);
        int positive = 0;
        for (float v : f) {
            assertTrue(v >= 0, "after ReLU");
            positive += v > 0 ? 1 : 0;
        }
        assertTrue(positive > 10, positive + " active features");
        // batched inference equals one-by-one
        float[] all = trained.features(slice.head(3).pixels(), 3);
        assertArrayEquals(trained.features(slice.image(2), 1), java.util.Arrays.copyOfRange(all, 256, 384), 1e-5f);
    }

    @Test
    void sameSeedSameWeights() {
        try (DigitClassifier a = DigitClassifier.initialised(3); DigitClassifier b = DigitClassifier.initialised(3);
                DigitClassifier c = DigitClassifier.initialised(4)) {
            assertEquals(a.fingerprint(), b.fingerprint());
            assertNotEquals(a.fingerprint(), c.fingerprint());
        }
    }

    @Test
    void saveLoadRoundTripPredictsTheSame(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.safetensors");
        trained.save(file);
        try (DigitClassifier loaded = DigitClassifier.load(file)) {
            assertArrayEquals(trained.predict(slice.pixels(), slice.size()), loaded.predict(slice.pixels(), 256));
            assertArrayEquals(trained.features(slice.pixels(), 256), loaded.features(slice.pixels(), 256));
            assertEquals(trained.fingerprint(), loaded.fingerprint());
            assertEquals(trained.info(), loaded.info());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(DigitClassifier.FORMAT, f.metadata().get("format"));
            assertEquals(DigitClassifier.ARCHITECTURE, f.metadata().get("architecture"));
        }
    }

    @Test
    void badFilesAreNamedWithTheirKey(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        write(missing, "fc2.bias", null, DigitClassifier.FORMAT);
        CheckpointException e = assertThrows(CheckpointException.class, () -> DigitClassifier.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("missing [fc2.bias]"),
                e.getMessage());

        Path extra = dir.resolve("extra.safetensors");
        write(extra, null, null, DigitClassifier.FORMAT);
        e = assertThrows(CheckpointException.class, () -> DigitClassifier.load(extra));
        assertTrue(e.getMessage().contains("unexpected [fc3.weight]"), e.getMessage());

        Path shape = dir.resolve("shape.safetensors");
        write(shape, null, "conv2.bias", DigitClassifier.FORMAT);
        e = assertThrows(CheckpointException.class, () -> DigitClassifier.load(shape));
        assertTrue(e.getMessage().contains("'conv2.bias' has shape [63], expected [64]"), e.getMessage());

        Path format = dir.resolve("format.safetensors");
        write(format, "fc2.bias", null, "pt");
        e = assertThrows(CheckpointException.class, () -> DigitClassifier.load(format));
        assertTrue(e.getMessage().contains("format is 'pt'"), e.getMessage());

        assertThrows(CheckpointException.class, () -> DigitClassifier.load(dir.resolve("absent.safetensors")));
    }

    @Test
    void absentEmbeddedClassifierSaysHowToMakeOne() {
        ClassLoader empty = new URLClassLoader(new URL[0], null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> DigitClassifier.loadDefault(empty));
        assertTrue(e.getMessage().startsWith("no embedded classifier") && e.getMessage().contains("TrainClassifier"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void closedClassifierFailsClearly() {
        DigitClassifier c = DigitClassifier.initialised(1);
        c.close();
        c.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.predict(new float[784], 1));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void badInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> trained.predict(new float[783], 1));
        assertThrows(IllegalArgumentException.class,
                () -> DigitClassifier.train(new ImageSet(new float[16], new int[] {1}, 4, 4), 1, 1, 0, (a, b, c, d) -> {
                }));
        assertThrows(IllegalArgumentException.class, () -> DigitClassifier.train(slice, 0, 1, 0, (a, b, c, d) -> {
        }));
    }

    /** A classifier file without {@code drop}, with {@code fc3.weight} added when nothing is dropped, and one
     * tensor of the wrong shape when {@code shrink} is set. */
    private static void write(Path file, String drop, String shrink, String format) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", format);
        for (var e : DigitClassifier.SHAPES.entrySet()) {
            if (e.getKey().equals(drop)) {
                continue;
            }
            long[] shape = e.getValue().clone();
            if (e.getKey().equals(shrink)) {
                shape[0]--;
            }
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            w.put(e.getKey(), new float[(int) n], shape);
        }
        if (drop == null && shrink == null) {
            w.put("fc3.weight", new float[4], 2, 2);
        }
        try (PointerScope scope = new PointerScope()) {
            w.write(file);
        }
    }
}
