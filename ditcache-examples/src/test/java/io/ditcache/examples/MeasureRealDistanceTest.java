package io.ditcache.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.quality.ReferenceFeatures;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link MeasureRealDistance} on the 256-image slice: a new reference point is added and the stored ones kept. */
class MeasureRealDistanceTest {
    @Test
    void addsAPointAndKeepsTheOthers(@TempDir Path dir) throws Exception {
        Path data = MnistSliceData.folder(dir.resolve("data"));
        ReferenceFeatures.RealDistance d = MeasureRealDistance.run(data, 64, dir,
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        assertEquals(64, d.count());
        assertTrue(d.fd() > 0 && Double.isFinite(d.fd()), "fd " + d.fd());
        ReferenceFeatures written = ReferenceFeatures.read(dir.resolve("mnist-test-features.safetensors"));
        assertEquals(d.fd(), written.realDistance(64).orElseThrow().fd());
        ReferenceFeatures embedded = ReferenceFeatures.loadDefault();
        assertEquals(embedded.realDistance(10_000).orElseThrow(), written.realDistance(10_000).orElseThrow(),
                "stored points are kept");
        assertEquals(embedded.count(), written.count());
    }
}
