package io.ditcache.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/** Reads stored elements of any {@link DType} into float32, int64 or bool destinations. */
final class Elements {
    /** Elements converted per pass through the scratch buffer. */
    private static final int CHUNK = 1 << 16;

    private Elements() {
    }

    /** Fills {@code dst} with the elements of a float type stored at {@code offset}, converted to float32. */
    static void readFloats(ByteSource src, long offset, DType dtype, FloatBuffer dst) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
        chunks(src, offset, dtype, dst.remaining(), (scratch, n) -> {
            switch (dtype) {
                case F32 -> {
                    for (int i = 0; i < n; i++) {
                        dst.put(scratch.getFloat());
                    }
                }
                case F64 -> {
                    for (int i = 0; i < n; i++) {
                        dst.put((float) scratch.getDouble());
                    }
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) {
                        dst.put(HalfFloats.float16(scratch.getShort()));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < n; i++) {
                        dst.put(HalfFloats.bfloat16(scratch.getShort()));
                    }
                }
                default -> throw new AssertionError(dtype);
            }
        });
    }

    /** Fills {@code dst} with the elements of an integer or bool type stored at {@code offset}, widened. */
    static void readLongs(ByteSource src, long offset, DType dtype, LongBuffer dst) {
        if (dtype.isFloatingPoint()) {
            throw new IllegalArgumentException(dtype + " is not an integer type");
        }
        chunks(src, offset, dtype, dst.remaining(), (scratch, n) -> {
            for (int i = 0; i < n; i++) {
                dst.put(switch (dtype) {
                    case I64 -> scratch.getLong();
                    case I32 -> scratch.getInt();
                    case I16 -> scratch.getShort();
                    case I8 -> scratch.get();
                    case U8 -> scratch.get() & 0xff;
                    case BOOL -> scratch.get() != 0 ? 1 : 0;
                    default -> throw new AssertionError(dtype);
                });
            }
        });
    }

    /** Reads {@code count} little-endian elements at {@code offset} in bounded chunks, handing each to {@code use}. */
    private static void chunks(ByteSource src, long offset, DType dtype, int count, ChunkUser use) {
        ByteBuffer scratch = ByteBuffer.allocate(CHUNK * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        long at = offset;
        for (int done = 0; done < count; ) {
            int n = Math.min(CHUNK, count - done);
            scratch.clear().limit(n * dtype.byteSize());
            src.read(at, scratch);
            scratch.flip();
            at += (long) n * dtype.byteSize();
            use.accept(scratch, n);
            done += n;
        }
    }

    /** Takes one chunk of {@code n} elements, positioned at its start. */
    @FunctionalInterface
    private interface ChunkUser {
        void accept(ByteBuffer scratch, int n);
    }

    /** Fills {@code dst} with BOOL elements stored at {@code offset}, as 0 or 1 (what libtorch's bool holds). */
    static void readBools(ByteSource src, long offset, ByteBuffer dst) {
        int start = dst.position();
        src.read(offset, dst);
        for (int i = start; i < dst.position(); i++) {
            if (dst.get(i) != 0) {
                dst.put(i, (byte) 1);
            }
        }
    }
}
