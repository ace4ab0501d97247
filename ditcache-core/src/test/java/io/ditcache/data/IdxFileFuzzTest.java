package io.ditcache.data;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Fuzz targets for IDX files (MNIST): {@link IdxFile#read} of a plain and of a gzipped file, and
 * {@link ImageSet#read} of an images file and a labels file (the input holds both, joined by
 * {@link ParserContract#FILE_SEPARATOR}). Documented error: {@link IOException} naming the file.
 */
class IdxFileFuzzTest {
    private static final Path DIR = ParserContract.scratch("idx");

    @FuzzTest
    void idx(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("images-idx3-ubyte"), input);
        check(input.length, file.toString(), () -> readChecked(file), IOException.class);
    }

    /** The input is the {@code .gz} file itself: a damaged stream must be refused like a damaged header. */
    @FuzzTest
    void idxGzip(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("images-idx3-ubyte.gz"), input);
        check(input.length, file.toString(), () -> readChecked(file), IOException.class);
    }

    @FuzzTest
    void imageSet(byte[] input) throws Throwable {
        List<byte[]> parts = ParserContract.split(input, 2);
        Path images = ParserContract.write(DIR.resolve("set-images-idx3-ubyte"), parts.get(0));
        Path labels = ParserContract.write(DIR.resolve("set-labels-idx1-ubyte"),
                parts.size() > 1 ? parts.get(1) : new byte[0]);
        // either file may be the one at fault: the message must name the folder they share
        check(input.length, DIR.toString(), () -> {
            ImageSet s = ImageSet.read(images, labels);
            if (s.size() > 0) {
                s.image(s.size() - 1);
                s.head(1);
            }
        }, IOException.class);
    }

    private static void readChecked(Path file) throws IOException {
        IdxFile.UByteTensor t = IdxFile.read(file);
        java.math.BigInteger n = java.math.BigInteger.ONE;
        for (int d : t.dims()) {
            n = n.multiply(java.math.BigInteger.valueOf(d));
        }
        if (!n.equals(java.math.BigInteger.valueOf(t.values().length))) {
            throw ParserContract.wrongResult(file + ": dims " + java.util.Arrays.toString(t.dims()) + " hold " + n
                    + " values, read " + t.values().length);
        }
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        Path mnist = Path.of("src/test/resources/fixtures/mnist");
        byte[] images = Files.readAllBytes(mnist.resolve("t10k-images-idx3-ubyte"));
        byte[] labels = Files.readAllBytes(mnist.resolve("t10k-labels-idx1-ubyte"));
        byte[] threeImages = idx(0x0803, new int[] {3, 28, 28}, java.util.Arrays.copyOfRange(images, 16, 16 + 3 * 784));
        byte[] threeLabels = idx(0x0801, new int[] {3}, java.util.Arrays.copyOfRange(labels, 8, 11));
        byte[] tiny = idx(0x0803, new int[] {2, 2, 3}, new byte[] {0, 127, (byte) 255, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        for (String method : new String[] {"idx", "idxGzip"}) {
            boolean gz = method.equals("idxGzip");
            sink.add(method, "mnist-3-images", gz ? gzip(threeImages) : threeImages);
            sink.add(method, "mnist-3-labels", gz ? gzip(threeLabels) : threeLabels);
            sink.add(method, "tiny-2x2x3", gz ? gzip(tiny) : tiny);
            sink.add(method, "rank-4", maybeGzip(gz, idx(0x0804, new int[] {1, 1, 2, 2}, new byte[] {1, 2, 3, 4})));
            sink.add(method, "zero-items", maybeGzip(gz, idx(0x0803, new int[] {0, 28, 28}, new byte[0])));
            // hostile: each must be refused with an IOException naming the file
            sink.add(method, "float-type", maybeGzip(gz, idx(0x0D01, new int[] {1}, new byte[4])));
            sink.add(method, "rank-0", maybeGzip(gz, idx(0x0800, new int[0], new byte[0])));
            sink.add(method, "negative-dim", maybeGzip(gz, idx(0x0801, new int[] {-5}, new byte[0])));
            sink.add(method, "data-truncated", maybeGzip(gz, java.util.Arrays.copyOf(tiny, tiny.length - 4)));
        }
        sink.add("imageSet", "mnist-3", ParserContract.join(List.of(threeImages, threeLabels)));
        sink.add("imageSet", "tiny", ParserContract.join(List.of(tiny, idx(0x0801, new int[] {2}, new byte[] {7, 9}))));
        // hostile: each must be refused with an IOException naming a file
        sink.add("imageSet", "count-mismatch", ParserContract.join(List.of(threeImages,
                idx(0x0801, new int[] {2}, new byte[] {1, 2}))));
        sink.add("imageSet", "labels-rank-2", ParserContract.join(List.of(tiny,
                idx(0x0802, new int[] {2, 1}, new byte[] {1, 2}))));
        sink.add("imageSet", "images-rank-1", ParserContract.join(List.of(idx(0x0801, new int[] {2}, new byte[2]),
                idx(0x0801, new int[] {2}, new byte[] {1, 2}))));
    }

    /** An IDX file: the magic number, each dimension, then the values, big-endian as the format has it. */
    private static byte[] idx(int magic, int[] dims, byte[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + values.length).putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(values).array();
    }

    private static byte[] maybeGzip(boolean gz, byte[] bytes) throws IOException {
        return gz ? gzip(bytes) : bytes;
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(bytes);
        }
        return out.toByteArray();
    }
}
