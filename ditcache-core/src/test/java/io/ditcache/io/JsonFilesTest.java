package io.ditcache.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.model.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON the library reads fails with one line that starts with the file and says where, never Jackson's text. */
class JsonFilesTest {
    /** UTF-32 by its first bytes, then a code point above U+10FFFF: Jackson fails outside its JSON errors. */
    static final byte[] BAD_UTF32 = {0, 0, 0, '{', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};

    @TempDir
    Path dir;

    static void assertOneLineFrom(String file, String message) {
        assertTrue(message.startsWith(file + ": "), message);
        assertFalse(message.contains("\n"), "one line: " + message);
        assertFalse(message.contains("[Source"), "no parser internals: " + message);
    }

    private Path shardedCheckpoint(byte[] index) throws IOException {
        Path ckpt = dir.resolve("sharded");
        Fixtures.copy("/fixtures/dit/config.json", ckpt.resolve("config.json"));
        Files.write(ckpt.resolve(Checkpoint.INDEX), index);
        return ckpt;
    }

    @Test
    void shardIndexThatIsNotJsonNamesTheIndexAndTheLine() throws IOException {
        Path ckpt = shardedCheckpoint("{\"weight_map\": {\"a\": \"x.safetensors\",\n \"b\" 1}}".getBytes());
        String m = assertThrows(CheckpointException.class, () -> Checkpoint.open(ckpt)).getMessage();
        assertOneLineFrom(ckpt.resolve(Checkpoint.INDEX).toString(), m);
        assertTrue(m.contains("not valid JSON at line 2, column 6"), m);
    }

    @Test
    void locationsInsideTheParsersMessageBecomeLinesAndColumns() throws IOException {
        Path file = dir.resolve("a.json");
        Files.writeString(file, "[1, 2}");
        String m = assertThrows(IOException.class, () -> JsonFiles.readTree(new ObjectMapper(), file)).getMessage();
        assertEquals(file + ": not valid JSON at line 1, column 6: Unexpected close marker '}': expected ']' (for "
                + "Array starting at line 1, column 1)", m);
    }

    @Test
    void shardIndexInABrokenEncodingNamesTheIndex() throws IOException {
        Path ckpt = shardedCheckpoint(BAD_UTF32);
        String m = assertThrows(CheckpointException.class, () -> Checkpoint.open(ckpt)).getMessage();
        assertOneLineFrom(ckpt.resolve(Checkpoint.INDEX).toString(), m);
        assertTrue(m.contains("not valid JSON text: Invalid UTF-32 character"), m);
    }

    @Test
    void configThatIsNotJsonNamesTheFileAndWhereTheObjectOpened() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"_class_name\": \"DiTTransformer2DModel\", \"num_layers\": [1, 2");
        String m = assertThrows(CheckpointException.class, () -> DiffusersConfig.read(file)).getMessage();
        assertOneLineFrom(file.toString(), m);
        assertTrue(m.contains("expected close marker for Array (opened at line 1, column 56)"), m);
        Files.write(file, BAD_UTF32);
        assertOneLineFrom(file.toString(),
                assertThrows(CheckpointException.class, () -> DiffusersConfig.read(file)).getMessage());
    }

    @Test
    void safetensorsHeaderThatIsNotJsonNamesTheFile() throws IOException {
        byte[] header = "{\"a\": {\"dtype\": \"F32\",\n\"shape\": [1}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path file = dir.resolve("w.safetensors");
        Files.write(file, b.array());
        String m = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file)).getMessage();
        assertOneLineFrom(file + " header", m);
        assertTrue(m.contains("line 2"), m);
    }

    @Test
    void aFileWhoseTreeWouldNotFitTheHeapIsRefusedBeforeReading() throws IOException {
        Path file = dir.resolve("big.json");
        Files.writeString(file, "[" + "0,".repeat(499) + "]");
        IOException e = assertThrows(IOException.class,
                () -> JsonFiles.readBounded(file, new MemoryBudget(3999, 1L << 40)));
        assertEquals(file + ": a JSON file of 1000 bytes; parsing it needs 4000 bytes (3.9 KiB) of Java heap, more "
                + "than the JVM's max heap of 3999 bytes (3.9 KiB) (-Xmx)", e.getMessage());
        assertEquals(1000, JsonFiles.readBounded(file, new MemoryBudget(4000, 1L << 40)).length);
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("absent.json");
        IOException e = assertThrows(IOException.class, () -> JsonFiles.readBounded(file));
        assertEquals(file + ": no such file", e.getMessage());
    }
}
