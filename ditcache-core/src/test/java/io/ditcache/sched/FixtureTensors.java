package io.ditcache.sched;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Test-only safetensors reader (F32 and I64) for the scheduler fixtures on the test classpath. The
 * project's real reader will replace it.
 */
final class FixtureTensors {
    private record Entry(String dtype, long[] shape, int begin, int end) {}

    private final String resource;
    private final ByteBuffer data;
    private final Map<String, Entry> entries = new HashMap<>();

    private FixtureTensors(String resource, byte[] bytes) throws IOException {
        this.resource = resource;
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = buf.getLong(0);
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        JsonNode root = new ObjectMapper().readTree(header);
        root.fields().forEachRemaining(f -> {
            if (f.getKey().equals("__metadata__")) {
                return;
            }
            JsonNode n = f.getValue();
            long[] shape = new long[n.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = n.get("shape").get(i).asLong();
            }
            entries.put(f.getKey(), new Entry(n.get("dtype").asText(), shape,
                    n.get("data_offsets").get(0).asInt(), n.get("data_offsets").get(1).asInt()));
        });
        this.data = buf.position(8 + (int) headerLen).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    static FixtureTensors load(String resource) {
        try (InputStream in = FixtureTensors.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            return new FixtureTensors(resource, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(resource, e);
        }
    }

    Set<String> names() {
        return entries.keySet();
    }

    boolean has(String name) {
        return entries.containsKey(name);
    }

    long[] shape(String name) {
        return entry(name).shape().clone();
    }

    float[] floats(String name) {
        Entry e = entry(name, "F32");
        float[] out = new float[(e.end() - e.begin()) / 4];
        data.slice(e.begin(), e.end() - e.begin()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    long[] longs(String name) {
        Entry e = entry(name, "I64");
        long[] out = new long[(e.end() - e.begin()) / 8];
        data.slice(e.begin(), e.end() - e.begin()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    /** A float32 tensor with its own copy of the data. */
    Tensor tensor(String name) {
        return torch.from_blob(new FloatPointer(floats(name)), shape(name)).clone();
    }

    /** The values of a float or integer tensor as doubles. */
    double[] doubles(String name) {
        if (entry(name).dtype().equals("I64")) {
            long[] l = longs(name);
            double[] d = new double[l.length];
            for (int i = 0; i < l.length; i++) {
                d[i] = l[i];
            }
            return d;
        }
        float[] f = floats(name);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(resource + ": no tensor " + name + " (have " + entries.keySet() + ")");
        }
        return e;
    }

    private Entry entry(String name, String dtype) {
        Entry e = entry(name);
        if (!e.dtype().equals(dtype)) {
            throw new IllegalArgumentException(resource + ": " + name + " is " + e.dtype() + ", not " + dtype);
        }
        return e;
    }
}
