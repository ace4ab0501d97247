package io.ditcache.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void aFailedWriteNamesTheTargetAndLeavesNeitherItNorATemporaryFile() throws IOException {
        Path target = dir.resolve("profile.json");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, tmp -> {
            throw new IOException("No space left on device");
        }));
        assertEquals(target.toAbsolutePath() + ": No space left on device", e.getMessage());
        assertEquals(List.of(), listing());
    }

    @Test
    void aMessageThatNamesTheTargetAlreadyIsKept() throws IOException {
        Path target = dir.resolve("a.csv").toAbsolutePath();
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, tmp -> {
            throw new IOException(target + ": bad");
        }));
        assertEquals(target + ": bad", e.getMessage());
    }

    @Test
    void aTargetThatIsNotARegularFileIsRefusedBeforeWriting() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(sub, "x"));
        assertTrue(e.getMessage().endsWith("sub: is a directory, expected a file to write"), e.getMessage());
        Path device = Path.of("/dev/null");
        if (Files.exists(device)) { // Linux; as root a move would replace the device node
            IOException d = assertThrows(IOException.class, () -> AtomicFiles.writeString(device, "x"));
            assertEquals("/dev/null: is not a regular file (a device, pipe or socket), expected a file to write",
                    d.getMessage());
            assertTrue(Files.exists(device) && !Files.isRegularFile(device), "still the device");
        }
        assertEquals(List.of(sub), listing());
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
