package io.ditcache.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainClassifierTest {
    @Test
    void writesAMatchingClassifierAndReference(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TrainClassifier.Result r = TrainClassifier.run(MnistSliceData.folder(dir.resolve("data")), dir.resolve("out"),
                1, 64, 0, new PrintStream(log, true, StandardCharsets.UTF_8));
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("test accuracy"), text);
        assertTrue(r.testAccuracy() >= 0 && r.testAccuracy() <= 1);
        assertEquals(1, r.realDistances().size(), "only the 100-sample count fits 256 images");
        assertEquals(100, r.realDistances().get(0).count());
        try (DigitClassifier c = DigitClassifier.load(r.classifierFile())) {
            assertEquals(Double.toString(r.testAccuracy()), c.info().get("test_accuracy"));
            ReferenceFeatures f = ReferenceFeatures.read(r.featuresFile());
            assertEquals(256, f.count());
            f.checkMadeBy(c);
            assertEquals(Double.toString(r.realDistances().get(0).fd()),
                    f.metadata().get(ReferenceFeatures.REAL_FD_KEY));
            assertEquals("100", f.metadata().get(ReferenceFeatures.REAL_FD_KEY + "_count"));
            assertEquals(r.realDistances().get(0), f.realDistance(100).orElseThrow());
        }
    }
}
