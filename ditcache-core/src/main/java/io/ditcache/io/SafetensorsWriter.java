package io.ditcache.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Writes safetensors files: a JSON header padded with spaces to a multiple of 8 bytes, then the tensors'
 * bytes, contiguous, in the order they were added. Files are written atomically ({@link AtomicFiles}).
 *
 * <p>libtorch tensors are stored as F32 (any floating-point type, converted), I64 (any integer type, widened)
 * or BOOL; other types (complex, quantised) are rejected when added. Tensors are read when {@link #write} runs,
 * so they must stay open until then.
 *
 * <pre>{@code
 * new SafetensorsWriter().metadata("format", "pt").put("w", new float[] {1, 2, 3, 4}, 2, 2).write(path);
 * }</pre>
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest piece of a tensor's memory handed to the channel at once. */
    private static final long VIEW_BYTES = 1L << 30;

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /**
     * Writes {@code tensors} (in the map's iteration order) and {@code metadata} (the header's
     * {@code __metadata__}, omitted when empty) to {@code file}.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        metadata.forEach(w::metadata);
        tensors.forEach(w::put);
        w.write(file);
    }

    /** Adds a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * Adds a libtorch tensor (any device, any strides): floating-point types are stored as F32, integer types as
     * I64, bool as BOOL.
     *
     * @throws IllegalArgumentException for an undefined tensor or another scalar type
     */
    public SafetensorsWriter put(String name, Tensor tensor) {
        Objects.requireNonNull(tensor, "tensor");
        if (!tensor.defined()) {
            throw new IllegalArgumentException("tensor '" + name + "' is undefined");
        }
        ScalarType st = tensor.scalar_type().intern();
        DType dtype = switch (st) {
            case Float, Half, BFloat16, Double -> DType.F32;
            case Long, Int, Short, Char, Byte -> DType.I64;
            case Bool -> DType.BOOL;
            default -> throw new IllegalArgumentException("tensor '" + name + "' has scalar type " + st
                    + "; expected a floating-point (stored as F32), integer (stored as I64) or bool type");
        };
        long[] shape = new long[(int) tensor.dim()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = tensor.size(i);
        }
        return add(name, new TensorEntry(dtype, shape, tensor));
    }

    /** Adds float32 values (row-major) as F32. */
    public SafetensorsWriter put(String name, float[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return putBytes(name, DType.F32, b.array(), shape);
    }

    /** Adds float64 values (row-major) as F64. */
    public SafetensorsWriter put(String name, double[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(data);
        return putBytes(name, DType.F64, b.array(), shape);
    }

    /** Adds int64 values (row-major) as I64. */
    public SafetensorsWriter put(String name, long[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        return putBytes(name, DType.I64, b.array(), shape);
    }

    /**
     * Adds elements already encoded as {@code dtype}, little-endian, row-major (for example F16 or BF16 bits).
     *
     * @throws IllegalArgumentException if the byte count is not {@code dtype.byteSize()} times the shape's product
     */
    public SafetensorsWriter putBytes(String name, DType dtype, byte[] littleEndian, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long need = Math.multiplyExact(numel(name, shape), (long) dtype.byteSize());
        if (littleEndian.length != need) {
            throw new IllegalArgumentException("tensor '" + name + "': " + littleEndian.length + " bytes, but " + dtype
                    + " and shape " + Arrays.toString(shape) + " need " + need);
        }
        return add(name, new BytesEntry(dtype, shape.clone(), littleEndian.clone()));
    }

    /** Writes the file atomically: on failure {@code file} is left as it was. */
    public void write(Path file) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            Entry en = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", en.dtype().safetensorsName());
            ArrayNode shape = n.putArray("shape");
            for (long d : en.shape()) {
                shape.add(d);
            }
            long end = Math.addExact(offset, en.byteSize());
            n.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, head);
                for (Entry en : entries.values()) {
                    en.writeTo(ch);
                }
            }
        });
    }

    private SafetensorsWriter add(String name, Entry entry) {
        Objects.requireNonNull(name, "name");
        if (name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + SafetensorsFile.METADATA_KEY + "' is reserved for metadata");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
        entries.put(name, entry);
        return this;
    }

    private static long numel(String name, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private interface Entry {
        DType dtype();

        long[] shape();

        long byteSize();

        void writeTo(WritableByteChannel ch) throws IOException;
    }

    private record BytesEntry(DType dtype, long[] shape, byte[] bytes) implements Entry {
        @Override
        public long byteSize() {
            return bytes.length;
        }

        @Override
        public void writeTo(WritableByteChannel ch) throws IOException {
            writeFully(ch, ByteBuffer.wrap(bytes));
        }
    }

    private record TensorEntry(DType dtype, long[] shape, Tensor tensor) implements Entry {
        @Override
        public long byteSize() {
            return numel("", shape) * dtype.byteSize();
        }

        @Override
        public void writeTo(WritableByteChannel ch) throws IOException {
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IOException("writing tensors needs a little-endian machine");
            }
            long n = byteSize();
            if (n == 0) {
                return;
            }
            // Converted copies live only for this write.
            try (PointerScope scope = new PointerScope()) {
                Tensor t = tensor.is_cpu() ? tensor : tensor.cpu();
                ScalarType want = dtype == DType.F32 ? ScalarType.Float : dtype == DType.I64 ? ScalarType.Long
                        : ScalarType.Bool;
                if (t.scalar_type().intern() != want) {
                    t = t.to(want);
                }
                t = t.contiguous();
                BytePointer base = new BytePointer(t.data_ptr()).capacity(n);
                for (long at = 0; at < n; at += VIEW_BYTES) {
                    writeFully(ch, base.position(at).limit(Math.min(n, at + VIEW_BYTES)).asByteBuffer());
                }
            }
        }
    }
}
