package io.ditcache.io;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzz target for checkpoint directories, the sharded layout above all: a {@code *.safetensors.index.json} and the
 * shards it names, cross-checked by {@link Checkpoint#open}.
 *
 * <p>An input is several files joined by {@link ParserContract#FILE_SEPARATOR}: the index (none when empty), then
 * the shards, written as {@code s1.safetensors}, {@code s2.safetensors}, ... beside a valid {@code config.json}.
 * Documented errors: {@link CheckpointException} and other {@link IOException}s, naming the directory or a file in
 * it.
 */
class CheckpointFuzzTest {
    private static final int MAX_SHARDS = 4;
    private static final Path DIR = ParserContract.scratch("checkpoint");
    private static final byte[] CONFIG = ("{\"_class_name\": \"DiTTransformer2DModel\", \"num_layers\": 1, "
            + "\"sample_size\": 4, \"patch_size\": 2, \"in_channels\": 1, \"num_attention_heads\": 1, "
            + "\"attention_head_dim\": 8, \"num_embeds_ada_norm\": 2}").getBytes(StandardCharsets.UTF_8);

    /** Opens the directory and reads every tensor of every shard. */
    @FuzzTest
    @DictionaryEntries({"\"weight_map\"", "\"metadata\"", "\"total_size\"", "\"s1.safetensors\"",
        "\"s2.safetensors\"", "\"s3.safetensors\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"",
        "\0--8<--\0"})
    void sharded(byte[] input) throws Throwable {
        ParserContract.clear(DIR);
        Files.write(DIR.resolve(Checkpoint.CONFIG), CONFIG);
        List<byte[]> parts = ParserContract.split(input, MAX_SHARDS + 1);
        if (parts.get(0).length > 0) {
            Files.write(DIR.resolve(Checkpoint.INDEX), parts.get(0));
        }
        for (int i = 1; i < parts.size(); i++) {
            Files.write(DIR.resolve("s" + i + ".safetensors"), parts.get(i));
        }
        check(input.length, DIR.toString(), () -> {
            try (Checkpoint c = Checkpoint.open(DIR)) {
                c.config();
                for (String name : c.names()) {
                    TensorInfo ti = c.info(name);
                    long n = ti.dtype().isFloatingPoint() ? c.floats(name).length : c.longs(name).length;
                    if (n != ti.numel()) {
                        throw ParserContract.wrongResult(DIR + ": tensor '" + name + "' read as " + n + " values, its shape "
                                + ti.shape() + " has " + ti.numel());
                    }
                }
            }
        }, CheckpointException.class, IOException.class);
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        byte[] s1 = SafetensorsFileFuzzTest.written(new SafetensorsWriter()
                .put("a.weight", new float[] {1, 2, 3, 4}, 2, 2).put("a.bias", new float[] {0.5f, -0.5f}, 2));
        byte[] s2 = SafetensorsFileFuzzTest.written(new SafetensorsWriter()
                .put("b.weight", new float[] {5, 6}, 1, 2).put("b.steps", new long[] {7, 8, 9}, 3));
        String index = "{\"metadata\": {\"total_size\": 64}, \"weight_map\": {\"a.weight\": \"s1.safetensors\", "
                + "\"a.bias\": \"s1.safetensors\", \"b.weight\": \"s2.safetensors\", \"b.steps\": \"s2.safetensors\"}}";
        sink.add("sharded", "two-shards", join(index, s1, s2));
        sink.add("sharded", "single-file", join("", s1));
        // hostile: each must be refused with a CheckpointException naming the directory or a file in it
        sink.add("sharded", "shard-missing", join(index, s1));
        sink.add("sharded", "tensor-not-in-shard", join(index.replace("\"b.steps\": \"s2", "\"b.steps\": \"s1"),
                s1, s2));
        sink.add("sharded", "unlisted-tensor", join(index.replace(", \"b.steps\": \"s2.safetensors\"", ""), s1, s2));
        sink.add("sharded", "path-traversal", join(index.replace("\"a.bias\": \"s1.safetensors\"",
                "\"a.bias\": \"../s1.safetensors\""), s1, s2));
        sink.add("sharded", "weight-map-empty", join("{\"weight_map\": {}}", s1));
        sink.add("sharded", "weight-map-not-object", join("{\"weight_map\": [\"s1.safetensors\"]}", s1));
        sink.add("sharded", "index-not-json", join("{\"weight_map\": {\"a\": ", s1));
        sink.add("sharded", "two-files-no-index", join("", s1, s2));
        sink.add("sharded", "shard-truncated", join(index, java.util.Arrays.copyOf(s1, s1.length - 3), s2));
    }

    private static byte[] join(String index, byte[]... shards) {
        List<byte[]> parts = new ArrayList<>();
        parts.add(index.getBytes(StandardCharsets.UTF_8));
        parts.addAll(List.of(shards));
        return ParserContract.join(parts);
    }
}
