package io.ditcache.io;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.SeedCorpus;
import io.ditcache.model.dit.DiTFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzz target for a diffusers {@code config.json}: {@link DiffusersConfig#parse}, then the DiT configuration the
 * model loader builds from it ({@link ModelLoader#ditConfig}). Documented error: {@link CheckpointException} naming
 * the source.
 */
class DiffusersConfigFuzzTest {
    static final String SOURCE = "fuzz-input/config.json";

    @FuzzTest
    @DictionaryEntries({"\"_class_name\"", "\"DiTTransformer2DModel\"", "\"sample_size\"", "\"patch_size\"",
        "\"in_channels\"", "\"out_channels\"", "\"num_layers\"", "\"num_attention_heads\"", "\"attention_head_dim\"",
        "\"num_embeds_ada_norm\"", "\"norm_eps\"", "\"attention_bias\"", "\"norm_type\"", "\"ada_norm_zero\"",
        "\"activation_fn\"", "\"gelu-approximate\"", "\"norm_elementwise_affine\"", "\"upcast_attention\"", "null",
        "2147483647", "-2147483648", "1e309", "NaN"})
    void config(byte[] input) throws Throwable {
        check(input.length, SOURCE, () -> {
            DiffusersConfig c = DiffusersConfig.parse(input, SOURCE);
            c.className();
            c.raw();
            DiTFamily.config(c);
        }, CheckpointException.class);
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        sink.add("config", "dit-fixture", Files.readAllBytes(fixture("fixtures/dit/config.json")));
        sink.add("config", "default-model", Files.readAllBytes(fixture("io/ditcache/default-model/config.json")));
        sink.add("config", "class-only", "{\"_class_name\": \"DiTTransformer2DModel\"}");
        sink.add("config", "nulls", "{\"_class_name\": \"DiTTransformer2DModel\", \"num_layers\": null, "
                + "\"norm_eps\": null, \"attention_bias\": null}");
        // hostile: each must be refused with a CheckpointException naming the source
        sink.add("config", "no-class", "{\"num_layers\": 2}");
        sink.add("config", "not-object", "[1, 2]");
        sink.add("config", "int-overflow", "{\"_class_name\": \"DiTTransformer2DModel\", \"num_layers\": 3000000000}");
        sink.add("config", "float-for-int", "{\"_class_name\": \"DiTTransformer2DModel\", \"patch_size\": 2.5}");
        sink.add("config", "string-for-bool", "{\"_class_name\": \"DiTTransformer2DModel\", \"attention_bias\": \"y\"}");
        sink.add("config", "wrong-norm", "{\"_class_name\": \"DiTTransformer2DModel\", \"norm_type\": \"layer_norm\"}");
        sink.add("config", "duplicate-key", "{\"_class_name\": \"A\", \"_class_name\": \"B\"}");
        sink.add("config", "trailing", "{\"_class_name\": \"A\"} x");
    }

    private static Path fixture(String resource) {
        for (Path p : List.of(Path.of("src/test/resources", resource), Path.of("src/main/resources", resource))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no " + resource + " under src/test/resources or src/main/resources");
    }
}
