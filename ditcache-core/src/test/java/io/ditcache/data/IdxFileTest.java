package io.ditcache.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader checks a header's counts against the file before allocating, and names the file on any failure. */
class IdxFileTest {
    private static final Duration QUICK = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** A big-endian IDX header of unsigned bytes with {@code dims}, then {@code values}. */
    static byte[] idx(int[] dims, byte[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + values.length);
        b.putInt(0x0800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(values).array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    private IOException refused(Path f) {
        IOException e = assertTimeoutPreemptively(QUICK, () -> assertThrows(IOException.class, () -> IdxFile.read(f)));
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(f + ": "), "names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void twoBillionImagesClaimedByASixteenByteFileAreRefusedBeforeAllocating() throws IOException {
        Path f = file("huge-idx3-ubyte", idx(new int[] {2_000_000_000, 1, 1}, new byte[0]));
        assertEquals(16, Files.size(f));
        String m = refused(f).getMessage();
        assertTrue(m.contains("header claims 2000000000 x 1 x 1 = 2000000000 values, but the file holds 0 bytes "
                + "after its 16-byte header"), m);
    }

    @Test
    void theSameClaimGzippedFailsAsTruncatedWithoutAllocatingTheClaim() throws IOException {
        Path f = file("huge-idx3-ubyte.gz", gzip(idx(new int[] {2_000_000_000, 1, 1}, new byte[100])));
        String m = refused(f).getMessage();
        assertTrue(m.contains("truncated, header claims 2000000000 x 1 x 1 = 2000000000 values, the file holds 100"),
                m);
    }

    @Test
    void dimensionsWhoseProductOverflowsAreRefused() throws IOException {
        String m = refused(file("x-idx3-ubyte", idx(new int[] {65536, 65536, 65536}, new byte[0]))).getMessage();
        assertTrue(m.contains("more than 2147483639 values in one array"), m);
    }

    @Test
    void everyTruncationNamesTheFileAndWhatWasExpected() throws IOException {
        byte[] whole = idx(new int[] {3, 2, 2}, new byte[12]);
        for (boolean gz : new boolean[] {false, true}) {
            for (int len = 0; len < whole.length; len++) {
                byte[] cut = Arrays.copyOf(whole, len);
                byte[] bytes = gz ? gzip(cut) : cut;
                Path f = file("cut" + len + "-idx3-ubyte" + (gz ? ".gz" : ""), bytes);
                String m = refused(f).getMessage();
                assertTrue(m.contains("expected") || m.contains("holds"), m);
            }
            // a gzip stream cut short itself
            byte[] z = gzip(whole);
            for (int len = 0; len < z.length; len += 3) {
                refused(file("z" + len + "-idx3-ubyte.gz", Arrays.copyOf(z, len)));
            }
        }
        assertArrayEquals(new int[] {3, 2, 2}, IdxFile.read(file("ok-idx3-ubyte", whole)).dims());
        assertArrayEquals(new int[] {3, 2, 2}, IdxFile.read(file("ok-idx3-ubyte.gz", gzip(whole))).dims());
    }

    @Test
    void headerTruncationSaysWhichField() throws IOException {
        String m = refused(file("h-idx3-ubyte", Arrays.copyOf(idx(new int[] {3, 2, 2}, new byte[0]), 9)))
                .getMessage();
        assertTrue(m.contains("truncated header, expected dimension 1 of 3 (4 bytes, big-endian) at byte 8"), m);
        assertTrue(refused(file("n.gz", new byte[] {1, 2, 3})).getMessage().contains("not a valid gzip file"));
        assertTrue(refused(dir.resolve("absent-idx1-ubyte")).getMessage().contains("no such IDX file"));
    }

    @Test
    void aLabelWithNoClassIsRefusedWithFileAndIndex() throws IOException {
        Path images = file("t10k-images-idx3-ubyte", idx(new int[] {3, 2, 2}, new byte[12]));
        Path labels = file("t10k-labels-idx1-ubyte", idx(new int[] {3}, new byte[] {4, (byte) 200, 9}));
        IOException e = assertThrows(IOException.class, () -> ImageSet.read(images, labels));
        assertEquals(labels + ": label 200 at index 1, expected 0 to 9", e.getMessage());
        Files.write(labels, idx(new int[] {3}, new byte[] {4, 0, 9}));
        assertArrayEquals(new int[] {4, 0, 9}, ImageSet.read(images, labels).labels());
    }
}
