package io.ditcache.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor copied into a Java array is checked against the heap first, naming the file, tensor and bytes. */
class SafetensorsArrayBoundsTest {
    @Test
    void anArrayBeyondTheHeapIsRefusedBeforeAllocating(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.safetensors");
        new SafetensorsWriter().put("w", new float[1000], 10, 100).write(f);
        try (SafetensorsFile file = SafetensorsFile.open(f)) {
            TensorInfo w = file.info("w");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> file.arrayLength(w, Float.BYTES, new MemoryBudget(3999, 1L << 40)));
            assertEquals(f + ": tensor 'w' of 1000 elements as a Java array needs 4000 bytes (3.9 KiB) of Java heap, "
                    + "more than the JVM's max heap of 3999 bytes (3.9 KiB) (-Xmx); use load()", e.getMessage());
            assertEquals(1000, file.arrayLength(w, Float.BYTES, new MemoryBudget(4000, 1L << 40)));
            assertEquals(1000, file.floats("w").length);
        }
    }
}
