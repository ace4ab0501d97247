package io.ditcache.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.data.ImageSet;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleQualityTest {
    static ImageSet part(ImageSet s, int from, int to) {
        int px = s.height() * s.width();
        return new ImageSet(Arrays.copyOfRange(s.pixels(), from * px, to * px),
                Arrays.copyOfRange(s.labels(), from, to), s.height(), s.width());
    }

    @Test
    void realImagesScoreBetterThanNoise(@TempDir Path dir) throws IOException {
        ImageSet slice = MnistSlice.read(dir);
        ImageSet real = part(slice, 0, 128);
        ImageSet held = part(slice, 128, 256);
        try (DigitClassifier c = DigitClassifier.initialised(2)) {
            ReferenceFeatures ref = ReferenceFeatures.compute(c, held, Map.of("data", "slice 128..255"));
            SampleQuality q = SampleQuality.measure(real.pixels(), real.labels(), c, ref);
            int[] p = c.predict(real.pixels(), 128);
            int right = 0;
            for (int i = 0; i < 128; i++) {
                right += p[i] == real.labels()[i] ? 1 : 0;
            }
            assertEquals(right / 128.0, q.classAccuracy(), 1e-12);
            assertEquals(128, q.samples());
            assertEquals(128, q.referenceCount());
            assertEquals(10, q.perClassAccuracy().size());

            float[] noise = new float[128 * 784];
            Random rnd = new Random(1);
            for (int i = 0; i < noise.length; i++) {
                noise[i] = rnd.nextFloat() * 2 - 1;
            }
            SampleQuality bad = SampleQuality.measure(noise, real.labels(), c, ref);
            assertTrue(bad.fd() > 3 * q.fd(), "noise FD " + bad.fd() + " vs real FD " + q.fd());

            ReferenceFeatures.RealDistance d = ref.measureRealDistance(c, real, 40, 10, 1);
            assertEquals(40, d.count());
            assertTrue(d.fd() > 0 && d.fd() < bad.fd(), "real images at 40 samples: " + d.fd());
            assertThrows(IllegalArgumentException.class, () -> ref.measureRealDistance(c, real, 129, 1, 1));
            ReferenceFeatures with = ref.withRealDistances(java.util.List.of(d,
                    new ReferenceFeatures.RealDistance(100, 1.5)));
            assertEquals("1.5", with.metadata().get(ReferenceFeatures.REAL_FD_KEY));
            assertEquals("100", with.metadata().get(ReferenceFeatures.REAL_FD_KEY + "_count"));
            assertEquals(d, with.realDistance(30).orElseThrow());
            assertTrue(with.realDistanceAt(30).isEmpty(), "none stored at exactly 30");
            assertEquals(d, with.realDistanceAt(40).orElseThrow());

            // the reference point at the count drawn, from the reference features themselves
            ReferenceFeatures.RealDistance self40 = ref.measureSelfDistance(40, 10, 1);
            ReferenceFeatures.RealDistance self10 = ref.measureSelfDistance(10, 10, 1);
            assertEquals(40, self40.count());
            assertTrue(self40.fd() > 0 && self10.fd() > self40.fd(), "FD is biased upwards at small counts: "
                    + self10.fd() + " at 10, " + self40.fd() + " at 40");
            assertEquals(0, ref.measureSelfDistance(128, 10, 1).fd(), 1e-3, "all of the set against itself");
            assertEquals(self40, ref.measureSelfDistance(40, 10, 1), "seeded");
            assertThrows(IllegalArgumentException.class, () -> ref.measureSelfDistance(129, 1, 1));
            assertThrows(IllegalArgumentException.class, () -> ref.measureSelfDistance(1, 1, 1));
        }
    }

    @Test
    void perClassAccuracyIsNaNForClassesNotRequested() {
        try (DigitClassifier c = DigitClassifier.initialised(2)) {
            float[] images = new float[3 * 784];
            int[] p = c.predict(images, 3);
            var ref = FrechetDistance.Statistics.of(new float[2 * 128], 2, 128);
            SampleQuality q = SampleQuality.measure(images, new int[] {p[0], p[0], p[0]}, c, ref);
            assertEquals(1.0, q.classAccuracy());
            for (int k = 0; k < 10; k++) {
                assertEquals(k == p[0], !Double.isNaN(q.perClassAccuracy().get(k)), "class " + k);
            }
            assertThrows(IllegalArgumentException.class, () -> SampleQuality.measure(images, new int[] {0, 10, 0}, c,
                    ref));
            assertThrows(IllegalArgumentException.class, () -> SampleQuality.measure(images, new int[] {0, 1}, c, ref));
        }
    }

    @Test
    void referenceFeaturesRoundTripAndGuardTheirClassifier(@TempDir Path dir) throws IOException {
        ImageSet slice = MnistSlice.read(dir);
        try (DigitClassifier c = DigitClassifier.initialised(2); DigitClassifier other = DigitClassifier.initialised(3)) {
            ReferenceFeatures ref = ReferenceFeatures.compute(c, slice, Map.of(
                    ReferenceFeatures.REAL_FD_KEY + "_n100", "12.5", ReferenceFeatures.REAL_FD_KEY + "_n1000", "3.25"));
            Path file = dir.resolve("ref.safetensors");
            ref.write(file);
            ReferenceFeatures back = ReferenceFeatures.read(file);
            assertEquals(256, back.count());
            assertTrue(Arrays.equals(ref.features(), back.features()));
            assertTrue(Arrays.equals(slice.labels(), back.labels()));
            assertEquals(ref.statistics().mean()[5], back.statistics().mean()[5]);
            back.checkMadeBy(c);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> back.checkMadeBy(other));
            assertTrue(e.getMessage().contains("matching pair"), e.getMessage());
            assertEquals(new ReferenceFeatures.RealDistance(100, 12.5), back.realDistance(50).orElseThrow());
            assertEquals(new ReferenceFeatures.RealDistance(100, 12.5), back.realDistance(300).orElseThrow());
            assertEquals(new ReferenceFeatures.RealDistance(1000, 3.25), back.realDistance(400).orElseThrow());
            assertTrue(ReferenceFeatures.compute(c, slice, Map.of()).realDistance(100).isEmpty());
        }
    }

    @Test
    void absentEmbeddedReferenceSaysHowToMakeIt() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ReferenceFeatures.loadDefault(new URLClassLoader(new URL[0], null)));
        assertTrue(e.getMessage().startsWith("no embedded reference features"), e.getMessage());
    }

    @Test
    void nonFiniteSamplesAreCountedNotMeasured(@TempDir Path dir) throws IOException {
        ImageSet slice = MnistSlice.read(dir);
        ImageSet some = part(slice, 0, 12);
        float[] images = some.pixels();
        images[784 * 2 + 5] = Float.NaN;
        Arrays.fill(images, 784 * 7, 784 * 8, Float.NEGATIVE_INFINITY);
        try (DigitClassifier c = DigitClassifier.initialised(2)) {
            ReferenceFeatures ref = ReferenceFeatures.compute(c, part(slice, 12, 40), Map.of());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SampleQuality.measure(images, some.labels(), c, ref));
            assertEquals("2 of 12 images have NaN or infinite pixels; class accuracy and Fréchet distance need "
                    + "finite samples", e.getMessage());
        }
    }

    @Test
    void referenceWithoutImagesSaysSo(@TempDir Path dir) throws IOException {
        try (DigitClassifier c = DigitClassifier.initialised(2)) {
            ImageSet none = new ImageSet(new float[0], new int[0], 28, 28);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ReferenceFeatures.compute(c, none, Map.of("data", "/data/mnist t10k")));
            assertEquals("/data/mnist t10k: no images, reference features need at least 2", e.getMessage());

            Path file = dir.resolve("empty.safetensors");
            new SafetensorsWriter().metadata("format", ReferenceFeatures.FORMAT)
                    .metadata(ReferenceFeatures.CLASSIFIER_KEY, c.fingerprint())
                    .put("features", new float[0], 0, DigitClassifier.FEATURES).put("labels", new long[0], 0)
                    .write(file);
            CheckpointException read = assertThrows(CheckpointException.class, () -> ReferenceFeatures.read(file));
            assertEquals(file + ": tensor 'features' [0, 128] holds no images, a reference needs at least 2",
                    read.getMessage());
        }
    }

    @Test
    void referenceWithNonFiniteFeaturesNamesTheFile(@TempDir Path dir) throws IOException {
        try (DigitClassifier c = DigitClassifier.initialised(2)) {
            float[] features = new float[3 * DigitClassifier.FEATURES];
            features[DigitClassifier.FEATURES + 7] = Float.NaN;
            Path file = dir.resolve("nan.safetensors");
            new SafetensorsWriter().metadata("format", ReferenceFeatures.FORMAT)
                    .metadata(ReferenceFeatures.CLASSIFIER_KEY, c.fingerprint())
                    .put("features", features, 3, DigitClassifier.FEATURES).put("labels", new long[3], 3)
                    .write(file);
            CheckpointException e = assertThrows(CheckpointException.class, () -> ReferenceFeatures.read(file));
            assertEquals(file + ": tensor 'features' has 1 of 3 rows with NaN or infinite values, expected finite "
                    + "features", e.getMessage());
        }
    }
}
