package io.ditcache.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A safetensors file, read-only: an 8-byte little-endian header length, a JSON header, then the data section.
 *
 * <p>The header is validated completely when the file is opened: every entry's dtype, shape and data offsets,
 * the byte size each entry needs, and that no two entries overlap. Gaps between entries and trailing bytes are
 * allowed. A file is memory-mapped; {@link #load} copies the bytes into a tensor that owns its memory, so no
 * tensor ever aliases the read-only mapping (an in-place op on one would kill the JVM).
 *
 * <p>Loaded dtypes: F32, F16, BF16 and F64 become float32 tensors; I64, I32, I16, I8 and U8 become int64;
 * BOOL becomes bool. Instances are safe for concurrent reads.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted (the bound the reference implementation uses). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";
    /** Largest piece of a tensor's memory viewed as one ByteBuffer while copying. */
    private static final long VIEW_BYTES = 1L << 30;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String source;
    private final ByteSource bytes;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(String source, ByteSource bytes) throws CheckpointException {
        this.source = source;
        this.bytes = bytes;
        long size = bytes.size();
        if (size < 8) {
            throw fail("file is " + size + " bytes long, expected at least 8 (header length + header)");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.read(0, len);
        long headerLength = len.getLong(0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw fail("header length " + Long.toUnsignedString(headerLength) + " is absurd, expected at most "
                    + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
        }
        if (headerLength > size - 8) {
            throw fail("header length " + headerLength + " runs past the end of the file (" + size
                    + " bytes, so at most " + (size - 8) + " header bytes)");
        }
        this.dataStart = 8 + headerLength;
        ByteBuffer header = ByteBuffer.allocate((int) headerLength);
        bytes.read(8, header);
        JsonNode root;
        try {
            root = JSON.readTree(header.array());
        } catch (IOException e) {
            throw new CheckpointException(JsonFiles.problem(source + " header", e), e);
        }
        if (root == null || !root.isObject()) {
            throw fail("header is " + describe(root) + ", expected a JSON object");
        }
        Map<String, TensorInfo> entries = new LinkedHashMap<>();
        Map<String, String> meta = Map.of();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                meta = parseMetadata(e.getValue());
            } else {
                entries.put(e.getKey(), parseEntry(e.getKey(), e.getValue(), size - dataStart));
            }
        }
        checkOverlaps(entries.values());
        this.tensors = Collections.unmodifiableMap(entries);
        this.metadata = meta;
    }

    /**
     * Memory-maps {@code file} read-only and validates its header.
     *
     * @throws CheckpointException if the file is missing or not a valid safetensors file
     * @throws IOException         if it cannot be read
     */
    public static SafetensorsFile open(Path file) throws IOException {
        return open(file, ByteSource.DEFAULT_WINDOW);
    }

    static SafetensorsFile open(Path file, long window) throws IOException {
        ByteSource src;
        try {
            src = ByteSource.map(file, window);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": no such safetensors file", e);
        }
        return new SafetensorsFile(file.toString(), src);
    }

    /**
     * Reads a safetensors file held in memory, from the buffer's position to its limit. The buffer is not copied
     * and must not change while this object is in use.
     *
     * @param sourceName how messages name these bytes, for example a classpath resource
     */
    public static SafetensorsFile open(ByteBuffer bytes, String sourceName) throws CheckpointException {
        return new SafetensorsFile(sourceName, ByteSource.of(bytes));
    }

    /** The file's path or the name given to {@link #open(ByteBuffer, String)}. */
    public String source() {
        return source;
    }

    /** Names of all tensors, in header order. */
    public Set<String> names() {
        checkOpen();
        return tensors.keySet();
    }

    /** True if the file holds a tensor of that name. */
    public boolean contains(String name) {
        checkOpen();
        return tensors.containsKey(name);
    }

    /**
     * Where the tensor lies and how it is stored.
     *
     * @throws IllegalArgumentException if there is no such tensor
     */
    public TensorInfo info(String name) {
        checkOpen();
        TensorInfo ti = tensors.get(name);
        if (ti == null) {
            throw new IllegalArgumentException(source + ": no tensor '" + name + "' (the file holds "
                    + tensors.size() + " tensors" + (tensors.isEmpty() ? "" : ", first " + preview()) + ")");
        }
        return ti;
    }

    /** The header's {@code __metadata__} (string to string); empty if there is none. */
    public Map<String, String> metadata() {
        checkOpen();
        return metadata;
    }

    /**
     * Copies a tensor into a new CPU tensor that owns its memory: float32 for float types, int64 for integer
     * types, bool for BOOL, with the stored shape. The caller owns the result (close it, or use a PointerScope).
     *
     * @throws IllegalArgumentException if there is no such tensor
     */
    public Tensor load(String name) {
        return load(name, VIEW_BYTES);
    }

    Tensor load(String name, long viewBytes) {
        TensorInfo ti = info(name);
        DType dt = ti.dtype();
        ScalarType st = dt.isFloatingPoint() ? ScalarType.Float : dt == DType.BOOL ? ScalarType.Bool : ScalarType.Long;
        int outSize = dt.isFloatingPoint() ? 4 : dt == DType.BOOL ? 1 : 8;
        Tensor t = torch.empty(ti.dims(), new TensorOptions(st), new MemoryFormatOptional());
        long n = ti.numel();
        if (n == 0) {
            return t;
        }
        boolean sameLayout = (dt == DType.F32 || dt == DType.I64) && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        long perView = Math.max(1, viewBytes / outSize);
        BytePointer base = new BytePointer(t.data_ptr()).capacity(n * outSize);
        for (long e = 0; e < n; e += perView) {
            long m = Math.min(perView, n - e);
            ByteBuffer view = base.position(e * outSize).limit((e + m) * outSize).asByteBuffer()
                    .order(ByteOrder.nativeOrder());
            long from = dataStart + ti.begin() + e * dt.byteSize();
            if (sameLayout) {
                bytes.read(from, view);
            } else if (dt.isFloatingPoint()) {
                Elements.readFloats(bytes, from, dt, view.asFloatBuffer());
            } else if (dt == DType.BOOL) {
                Elements.readBools(bytes, from, view);
            } else {
                Elements.readLongs(bytes, from, dt, view.asLongBuffer());
            }
        }
        return t;
    }

    /**
     * The elements of a float-typed tensor (F32, F16, BF16, F64) as float32, flattened in row-major order.
     *
     * @throws IllegalArgumentException if there is no such tensor, it is not float-typed, or it has more
     *                                  elements than a Java array holds
     */
    public float[] floats(String name) {
        TensorInfo ti = info(name);
        if (!ti.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(source + ": tensor '" + name + "' is " + ti.dtype()
                    + ", not a float type; use longs()");
        }
        float[] out = new float[arrayLength(ti, Float.BYTES, MemoryBudget.ofThisMachine())];
        Elements.readFloats(bytes, dataStart + ti.begin(), ti.dtype(), FloatBuffer.wrap(out));
        return out;
    }

    /**
     * The elements of a float-typed tensor as float64, flattened in row-major order: F64 exactly as stored, the
     * narrower float types widened.
     *
     * @throws IllegalArgumentException if there is no such tensor, it is not float-typed, or it has more
     *                                  elements than a Java array holds
     */
    public double[] doubles(String name) {
        TensorInfo ti = info(name);
        if (ti.dtype() != DType.F64) {
            float[] f = floats(name);
            double[] out = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                out[i] = f[i];
            }
            return out;
        }
        double[] out = new double[arrayLength(ti, 2L * Double.BYTES, MemoryBudget.ofThisMachine())];
        ByteBuffer raw = ByteBuffer.allocate(Math.multiplyExact(out.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.read(dataStart + ti.begin(), raw);
        raw.flip();
        raw.asDoubleBuffer().get(out);
        return out;
    }

    /**
     * The elements of an integer- or bool-typed tensor as int64, flattened in row-major order.
     *
     * @throws IllegalArgumentException if there is no such tensor, it is float-typed, or it has more elements
     *                                  than a Java array holds
     */
    public long[] longs(String name) {
        TensorInfo ti = info(name);
        if (ti.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(source + ": tensor '" + name + "' is " + ti.dtype()
                    + ", not an integer type; use floats()");
        }
        long[] out = new long[arrayLength(ti, Long.BYTES, MemoryBudget.ofThisMachine())];
        Elements.readLongs(bytes, dataStart + ti.begin(), ti.dtype(), LongBuffer.wrap(out));
        return out;
    }

    /** Releases this object; idempotent. Tensors already loaded stay valid: they own their memory. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + source + (closed ? ", closed]" : ", " + tensors.size() + " tensors]");
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("safetensors file " + source + " is closed");
        }
    }

    /** The length of a Java array of the tensor's elements, checked against the array limit and the heap. */
    int arrayLength(TensorInfo ti, long elementBytes, MemoryBudget budget) {
        long n = ti.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(source + ": tensor '" + ti.name() + "' has " + n
                    + " elements, more than a Java array holds; use load()");
        }
        String shortfall = budget.shortfall(n * elementBytes, 0);
        if (shortfall != null) {
            throw new IllegalArgumentException(source + ": tensor '" + ti.name() + "' of " + n + " elements as a "
                    + "Java array " + shortfall + "; use load()");
        }
        return (int) n;
    }

    private String preview() {
        List<String> first = new ArrayList<>();
        for (String n : tensors.keySet()) {
            if (first.size() == 5) {
                first.add("...");
                break;
            }
            first.add("'" + n + "'");
        }
        return String.join(", ", first);
    }

    private Map<String, String> parseMetadata(JsonNode node) throws CheckpointException {
        if (!node.isObject()) {
            throw fail(METADATA_KEY + " is " + describe(node) + ", expected an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(METADATA_KEY + " key '" + e.getKey() + "' is " + describe(e.getValue())
                        + ", expected a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private TensorInfo parseEntry(String name, JsonNode node, long dataSize) throws CheckpointException {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) {
            throw fail(where + "entry is " + describe(node) + ", expected an object with dtype, shape, data_offsets");
        }
        JsonNode dtypeNode = required(node, name, "dtype");
        if (!dtypeNode.isTextual()) {
            throw fail(where + "dtype is " + describe(dtypeNode) + ", expected a string such as \"F32\"");
        }
        DType dtype;
        try {
            dtype = DType.parse(dtypeNode.textValue());
        } catch (IllegalArgumentException e) {
            throw fail(where + e.getMessage());
        }
        JsonNode shapeNode = required(node, name, "shape");
        if (!shapeNode.isArray()) {
            throw fail(where + "shape is " + describe(shapeNode) + ", expected an array of integers >= 0");
        }
        List<Long> shape = new ArrayList<>();
        for (JsonNode d : shapeNode) {
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw fail(where + "shape " + shapeNode + " has " + describe(d) + ", expected integers >= 0");
            }
            if (d.longValue() < 0) {
                throw fail(where + "shape " + shapeNode + " has negative dimension " + d.longValue()
                        + ", expected integers >= 0");
            }
            shape.add(d.longValue());
        }
        JsonNode off = required(node, name, "data_offsets");
        if (!off.isArray() || off.size() != 2) {
            throw fail(where + "data_offsets is " + off + ", expected [begin, end]");
        }
        for (JsonNode o : off) {
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw fail(where + "data_offsets " + off + " has " + describe(o) + ", expected integers >= 0");
            }
        }
        long begin = off.get(0).longValue();
        long end = off.get(1).longValue();
        if (end < begin) {
            throw fail(where + "data_offsets " + off + " end before begin, expected begin <= end");
        }
        if (end > dataSize) {
            throw fail(where + "data_offsets " + off + " run past the end of the data section (" + dataSize
                    + " bytes); the file is truncated or the offsets are wrong");
        }
        long need;
        try {
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            need = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw fail(where + "shape " + shape + " has more elements than a 64-bit count holds");
        }
        if (end - begin != need) {
            throw fail(where + "data_offsets " + off + " hold " + (end - begin) + " bytes, but dtype " + dtype
                    + " and shape " + shape + " need " + need);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private JsonNode required(JsonNode entry, String name, String field) throws CheckpointException {
        JsonNode v = entry.get(field);
        if (v == null) {
            throw fail("tensor '" + name + "': entry " + entry + " has no '" + field
                    + "', expected dtype, shape and data_offsets");
        }
        return v;
    }

    private void checkOverlaps(Collection<TensorInfo> all) throws CheckpointException {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : all) {
            if (t.byteSize() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw fail("tensors '" + a.name() + "' [" + a.begin() + ", " + a.end() + ") and '" + b.name() + "' ["
                        + b.begin() + ", " + b.end() + ") overlap, expected disjoint byte ranges");
            }
        }
    }

    private CheckpointException fail(String message) {
        return new CheckpointException(source + ": " + message);
    }

    static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "empty";
        }
        String kind = n.isObject() ? "an object" : n.isArray() ? "an array" : n.isTextual() ? "a string"
                : n.isBoolean() ? "a boolean" : n.isNull() ? "null" : "a number";
        String text = n.toString();
        if (text.length() > 80) {
            text = text.substring(0, 77) + "...";
        }
        return n.isNull() ? kind : kind + " (" + text + ")";
    }
}
