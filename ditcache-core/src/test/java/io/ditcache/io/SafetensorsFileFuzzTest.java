package io.ditcache.io;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Fuzz targets for safetensors files: the header and tensor offsets of {@link SafetensorsFile}, read the way the
 * library and the CLI read them (model weights, {@code --inputs}, {@code --latents}, run records).
 *
 * <p>Documented errors: {@link CheckpointException} (an {@link IOException}) from {@code open}; an
 * {@link IllegalArgumentException} from the element readers only for a tensor larger than a Java array.
 */
class SafetensorsFileFuzzTest {
    static final String SOURCE = "fuzz-input.safetensors";
    private static final Path DIR = ParserContract.scratch("safetensors");
    /** Larger tensors are not compared element by element in {@link #loadTensors}: that target is about offsets. */
    private static final long COMPARE_LIMIT = 1 << 12;

    /** Loads libtorch's classes (~160 MB of Java heap, once: not a parse's doing) for the targets that use it. */
    private static final class Torch {
        static {
            try (SafetensorsFile f = SafetensorsFile.open(ByteBuffer.wrap(everyDtype()), SOURCE);
                    PointerScope scope = new PointerScope()) {
                for (String name : f.names()) {
                    f.load(name).contiguous().data_ptr();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        static void load() {
            // the static initializer did the work
        }
    }

    /** Opens bytes held in memory and reads every tensor into Java arrays. The fast target. */
    @FuzzTest
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
        "\"BF16\"", "\"F64\"", "\"I64\"", "\"I32\"", "\"I16\"", "\"I8\"", "\"U8\"", "\"BOOL\"", "18446744073709551615",
        "9223372036854775807", "4294967296"})
    void header(byte[] input) throws Throwable {
        check(input.length, SOURCE, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(ByteBuffer.wrap(input), SOURCE)) {
                readAll(f);
            }
        }, CheckpointException.class, IllegalArgumentException.class);
    }

    /**
     * Opens a file (memory-mapped, as every path-based reader does) in one window and in 13-byte windows, which
     * must read the same; then reads {@code latents} the way {@code profile --latents} does.
     */
    @FuzzTest
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
        "\"BF16\"", "\"F64\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"latents\""})
    void mappedFile(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("latents.safetensors"), input);
        check(input.length, file.toString(), () -> {
            try (SafetensorsFile whole = SafetensorsFile.open(file);
                    SafetensorsFile windows = SafetensorsFile.open(file, 13)) {
                List<Object> a = readAll(whole);
                List<Object> b = readAll(windows);
                if (!deepEquals(a, b)) {
                    throw ParserContract.wrongResult(file + ": 13-byte windows read other values than one window");
                }
                if (whole.contains("latents")) {
                    long[] dims = whole.info("latents").dims();
                    if (whole.info("latents").dtype().isFloatingPoint()) {
                        float[] v = whole.floats("latents");
                        if (v.length != Arrays.stream(dims).reduce(1, Math::multiplyExact)) {
                            throw ParserContract.wrongResult(file + ": latents " + Arrays.toString(dims) + " read as "
                                    + v.length + " values");
                        }
                    }
                }
            }
        }, CheckpointException.class, IOException.class, IllegalArgumentException.class);
    }

    /**
     * Opens a file and copies every tensor into libtorch the way {@code run --inputs} and the model loader do,
     * comparing small float tensors with {@link SafetensorsFile#floats}. The slow target (a tensor per tensor).
     */
    @FuzzTest
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"",
        "\"I64\"", "\"I32\"", "\"U8\"", "\"BOOL\"", "\"hidden_states\"", "\"timestep\"", "\"class_labels\""})
    void loadTensors(byte[] input) throws Throwable {
        Torch.load();
        Path file = ParserContract.write(DIR.resolve("inputs.safetensors"), input);
        check(input.length, file.toString(), () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (String name : f.names()) {
                    TensorInfo ti = f.info(name);
                    try (PointerScope scope = new PointerScope()) {
                        Tensor t = f.load(name);
                        long[] shape = new long[(int) t.dim()];
                        for (int d = 0; d < shape.length; d++) {
                            shape[d] = t.size(d);
                        }
                        if (t.numel() != ti.numel() || !Arrays.equals(shape, ti.dims())) {
                            throw ParserContract.wrongResult(file + ": tensor '" + name + "' loaded with shape "
                                    + Arrays.toString(shape) + ", header says " + ti.shape());
                        }
                        if (ti.dtype().isFloatingPoint() && ti.numel() <= COMPARE_LIMIT && ti.numel() > 0) {
                            float[] want = f.floats(name);
                            float[] got = new float[want.length];
                            t.contiguous().data_ptr_float().get(got);
                            if (!Arrays.equals(want, got)) {
                                throw ParserContract.wrongResult(file + ": tensor '" + name + "' loads other values than"
                                        + " floats() reads");
                            }
                        }
                    }
                }
            }
        }, CheckpointException.class, IOException.class, IllegalArgumentException.class);
    }

    /** Every tensor's values, as the typed readers return them; the length checked against the header. */
    private static List<Object> readAll(SafetensorsFile f) {
        f.metadata();
        List<Object> out = new ArrayList<>();
        for (String name : f.names()) {
            TensorInfo ti = f.info(name);
            Object values;
            int length;
            if (ti.dtype() == DType.F64) {
                double[] d = f.doubles(name);
                values = d;
                length = d.length;
            } else if (ti.dtype().isFloatingPoint()) {
                float[] v = f.floats(name);
                values = v;
                length = v.length;
            } else {
                long[] v = f.longs(name);
                values = v;
                length = v.length;
            }
            if (length != ti.numel()) {
                throw ParserContract.wrongResult(f.source() + ": tensor '" + name + "' read as " + length
                        + " values, its shape " + ti.shape() + " has " + ti.numel());
            }
            out.add(name);
            out.add(values);
        }
        return out;
    }

    private static boolean deepEquals(List<Object> a, List<Object> b) {
        return Arrays.deepEquals(a.toArray(), b.toArray());
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        List<String[]> named = new ArrayList<>();
        for (String method : List.of("header", "mappedFile", "loadTensors")) {
            sink.add(method, "f32", written(new SafetensorsWriter().metadata("format", "pt")
                    .put("w", new float[] {1, -2, 3.5f, Float.NaN, Float.POSITIVE_INFINITY, -0f}, 2, 3)));
            sink.add(method, "every-dtype", everyDtype());
            sink.add(method, "latents", written(new SafetensorsWriter()
                    .put("latents", ramp(2 * 4 * 4), 1, 2, 4, 4)));
            sink.add(method, "dit-inputs", written(new SafetensorsWriter()
                    .put("hidden_states", ramp(4 * 4 * 4), 1, 4, 4, 4)
                    .put("timestep", new long[] {999}, 1)
                    .put("class_labels", new long[] {3}, 1)));
            sink.add(method, "no-tensors", raw("{}", 0));
            // hostile: each must be refused with a CheckpointException naming the file
            sink.add(method, "header-past-end", headerLength(1000, "{}"));
            sink.add(method, "header-length-min-long", headerLength(Long.MIN_VALUE, "{}"));
            sink.add(method, "truncated-length", new byte[] {2, 0, 0});
            sink.add(method, "header-not-json", raw("{\"a\": [1, 2", 0));
            sink.add(method, "header-array", raw("[1, 2, 3]", 0));
            sink.add(method, "duplicate-key", raw("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                    + "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1));
            sink.add(method, "overlap", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
            sink.add(method, "offsets-past-end", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],"
                    + "\"data_offsets\":[0,16]}}", 8));
            sink.add(method, "numel-overflow", raw("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,4],"
                    + "\"data_offsets\":[0,8]}}", 8));
            sink.add(method, "huge-shape-zero-bytes", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4294967296],"
                    + "\"data_offsets\":[0,0]}}", 0));
            sink.add(method, "negative-dim", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],"
                    + "\"data_offsets\":[0,0]}}", 0));
            sink.add(method, "unknown-dtype", raw("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],"
                    + "\"data_offsets\":[0,1]}}", 1));
            sink.add(method, "metadata-not-string", raw("{\"__metadata__\":{\"k\":1}}", 0));
            sink.add(method, "trailing-tokens", raw("{} {}", 0));
        }
    }

    private static byte[] everyDtype() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        int i = 0;
        for (DType t : DType.values()) {
            byte[] b = new byte[3 * t.byteSize()];
            for (int k = 0; k < b.length; k++) {
                b[k] = (byte) (17 * k + i);
            }
            w.putBytes(t.name().toLowerCase(java.util.Locale.ROOT), t, b, 3);
            i++;
        }
        w.putBytes("empty", DType.F32, new byte[0], 0, 5);
        w.put("scalar", new float[] {42}, new long[0]);
        return written(w);
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i % 7) - 3.25f;
        }
        return v;
    }

    /** The bytes {@code w} writes. */
    static byte[] written(SafetensorsWriter w) throws IOException {
        Path tmp = Files.createTempFile("seed", ".safetensors");
        try {
            w.write(tmp);
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A file with {@code header} as its JSON header and {@code dataBytes} zero bytes of data. */
    static byte[] raw(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h)
                .array();
    }

    private static byte[] headerLength(long length, String header) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(length).put(h).array();
    }
}
