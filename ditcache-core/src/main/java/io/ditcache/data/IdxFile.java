package io.ditcache.data;

import io.ditcache.io.MemoryBudget;
import io.ditcache.io.Messages;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (unsigned-byte tensors, big-endian header), plain or gzipped.
 * The magic number gives the element type (0x08 = unsigned byte) and the rank; each dimension is a 32-bit size.
 */
public final class IdxFile {
    /** The most elements one Java array holds. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private IdxFile() {
    }

    /** An unsigned-byte tensor: its dimensions and its values (0..255, row-major). */
    public record UByteTensor(int[] dims, byte[] values) {
        public int count() {
            return dims[0];
        }

        /** Elements per item (product of all dimensions but the first). */
        public int itemSize() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) {
                n *= dims[i];
            }
            return n;
        }

        public int value(int index) {
            return values[index] & 0xff;
        }
    }

    /**
     * Reads {@code file}; a name ending in {@code .gz} is decompressed. The header's dimensions are checked against
     * the bytes the file holds and the heap before the values are allocated.
     *
     * @throws IOException one line naming the file and what was expected, for a missing, truncated, corrupt or
     *                     oversized file
     */
    public static UByteTensor read(Path file) throws IOException {
        boolean gz = file.toString().endsWith(".gz");
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such IDX file", e);
        }
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = gz ? new GZIPInputStream(raw, 1 << 16) : new BufferedInputStream(raw, 1 << 16);
                DataInputStream data = new DataInputStream(in)) {
            int magic = header(data, file, "the 4-byte magic number", 0);
            if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
                throw new IOException(file + ": magic number 0x" + Integer.toHexString(magic)
                        + " is not an unsigned-byte IDX file (expected 0x0000080N)");
            }
            int rank = magic & 0xff;
            if (rank < 1 || rank > 4) {
                throw new IOException(file + ": IDX rank " + rank + ", expected 1 to 4");
            }
            int[] dims = new int[rank];
            for (int i = 0; i < rank; i++) {
                dims[i] = header(data, file, "dimension " + i + " of " + rank, 4 + 4 * i);
                if (dims[i] < 0) {
                    throw new IOException(file + ": dimension " + i + " is " + dims[i] + ", expected >= 0");
                }
            }
            long total = elements(dims, 0, file);
            elements(dims, 1, file); // an item's size must be countable even when there are no items
            long headerBytes = 4 + 4L * rank;
            if (!gz && fileSize - headerBytes < total) {
                throw new IOException(file + ": header claims " + shape(dims) + " = " + total + " values, but the "
                        + "file holds " + (fileSize - headerBytes) + " bytes after its " + headerBytes
                        + "-byte header; the file is truncated or not an IDX file");
            }
            String shortfall = MemoryBudget.ofThisMachine().shortfall(total, 0);
            if (shortfall != null) {
                throw new IOException(file + ": " + shape(dims) + " = " + total + " values " + shortfall);
            }
            // a gzip stream's length is only known once it is read: let the array grow with the data present
            byte[] values = gz ? data.readNBytes((int) total) : new byte[(int) total];
            int got = gz ? values.length : data.readNBytes(values, 0, values.length);
            if (got < total) {
                throw new IOException(file + ": truncated, header claims " + shape(dims) + " = " + total
                        + " values, the file holds " + got);
            }
            // reading on to the end also makes gzip check its trailer (CRC and length)
            if (data.read() != -1) {
                throw new IOException(file + ": data after the " + total + " values of " + shape(dims)
                        + ", expected the file to end there");
            }
            return new UByteTensor(dims, values);
        } catch (ZipException e) {
            throw new IOException(Messages.oneLine(file + ": not a valid gzip file (" + e.getMessage() + ")"), e);
        } catch (EOFException e) {
            // only the gzip layer gets here: the header and the values handle their own ends
            throw new IOException(file + ": truncated gzip stream, expected an IDX header, values and the gzip "
                    + "trailer", e);
        }
    }

    private static int header(DataInputStream data, Path file, String what, int offset) throws IOException {
        try {
            return data.readInt();
        } catch (EOFException e) {
            throw new IOException(file + ": truncated header, expected " + what + " (4 bytes, big-endian) at byte "
                    + offset, e);
        }
    }

    /** The product of {@code dims[from..]}, checked to fit one Java array. */
    private static long elements(int[] dims, int from, Path file) throws IOException {
        long n = 1;
        for (int i = from; i < dims.length; i++) {
            n *= dims[i]; // each factor < 2^31 and n <= MAX_ARRAY before it: no overflow
            if (n > MAX_ARRAY) {
                throw new IOException(file + ": header claims " + shape(dims) + ", more than " + MAX_ARRAY
                        + " values in one array");
            }
        }
        return n;
    }

    private static String shape(int[] dims) {
        StringBuilder b = new StringBuilder();
        for (int d : dims) {
            b.append(b.length() == 0 ? "" : " x ").append(d);
        }
        return b.toString();
    }
}
