package io.ditcache.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (unsigned-byte tensors, big-endian header), plain or gzipped.
 * The magic number gives the element type (0x08 = unsigned byte) and the rank; each dimension is a 32-bit size.
 */
public final class IdxFile {
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

    /** Reads {@code file}; a name ending in {@code .gz} is decompressed. */
    public static UByteTensor read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16)
                        : new BufferedInputStream(raw, 1 << 16);
                DataInputStream data = new DataInputStream(in)) {
            int magic = data.readInt();
            if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
                throw new IOException(file + ": magic number 0x" + Integer.toHexString(magic)
                        + " is not an unsigned-byte IDX file (expected 0x0000080N)");
            }
            int rank = magic & 0xff;
            if (rank < 1 || rank > 4) {
                throw new IOException(file + ": IDX rank " + rank + ", expected 1 to 4");
            }
            int[] dims = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = data.readInt();
                if (dims[i] < 0) {
                    throw new IOException(file + ": dimension " + i + " is " + dims[i] + ", expected >= 0");
                }
                total *= dims[i];
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new IOException(file + ": " + total + " elements is more than this reader holds");
            }
            byte[] values = new byte[(int) total];
            try {
                data.readFully(values);
            } catch (EOFException e) {
                throw new IOException(file + ": truncated, expected " + total + " values after the header", e);
            }
            return new UByteTensor(dims, values);
        }
    }
}
