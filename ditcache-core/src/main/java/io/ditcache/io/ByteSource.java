package io.ditcache.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Read-only bytes of a safetensors file: a memory-mapped file or a buffer in memory. Reads copy out; nothing
 * handed to a caller aliases the source, so a read-only mapping can never be written through.
 */
abstract class ByteSource {
    /** Largest window of one mapping; a {@link MappedByteBuffer} cannot exceed 2 GiB. */
    static final long DEFAULT_WINDOW = 1L << 30;

    abstract long size();

    /** Fills {@code dst} (from its position to its limit) with the bytes starting at {@code offset}. */
    abstract void read(long offset, ByteBuffer dst);

    static ByteSource map(Path file) throws IOException {
        return map(file, DEFAULT_WINDOW);
    }

    /** Maps {@code file} read-only in windows of {@code window} bytes (small windows are for tests). */
    static ByteSource map(Path file, long window) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) ((size + window - 1) / window);
            ByteBuffer[] parts = new ByteBuffer[n];
            for (int i = 0; i < n; i++) {
                long pos = i * window;
                parts[i] = ch.map(FileChannel.MapMode.READ_ONLY, pos, Math.min(window, size - pos));
            }
            // The mappings stay valid after the channel is closed.
            return new Windows(parts, window, size);
        }
    }

    static ByteSource of(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        return new Windows(new ByteBuffer[] {b.slice()}, Math.max(1, b.remaining()), b.remaining());
    }

    /** Consecutive buffers of {@code window} bytes each (the last may be shorter). */
    private static final class Windows extends ByteSource {
        private final ByteBuffer[] parts;
        private final long window;
        private final long size;

        Windows(ByteBuffer[] parts, long window, long size) {
            this.parts = parts;
            this.window = window;
            this.size = size;
        }

        @Override
        long size() {
            return size;
        }

        @Override
        void read(long offset, ByteBuffer dst) {
            int want = dst.remaining();
            if (offset < 0 || offset > size - want) {
                throw new IndexOutOfBoundsException("read of " + want + " bytes at " + offset + " in " + size);
            }
            long pos = offset;
            while (dst.hasRemaining()) {
                int part = (int) (pos / window);
                int at = (int) (pos % window);
                ByteBuffer src = parts[part].duplicate();
                int len = Math.min(dst.remaining(), src.limit() - at);
                src.position(at).limit(at + len);
                dst.put(src);
                pos += len;
            }
        }
    }
}
