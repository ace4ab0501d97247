package io.ditcache.model;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz target for the model a {@code config.json} makes: {@link ModelLoader#load(Path)} on a directory holding the
 * fuzzed config and fixed, valid weights (the 4-block test DiT). A config that declares a model the weights cannot
 * fill must be refused before the model is allocated: the input (config and weights, half a megabyte) does not
 * justify gigabytes. The slow target (a model per accepted config). Documented errors: {@link CheckpointException}
 * and other {@link IOException}s naming the directory or a file in it.
 */
class ModelLoaderFuzzTest {
    private static final Path DIR = ParserContract.scratch("model");
    private static final long WEIGHT_BYTES;

    static {
        try {
            Path weights = Files.copy(Path.of("src/test/resources/fixtures/dit/model.safetensors"),
                    DIR.resolve(Checkpoint.WEIGHTS));
            WEIGHT_BYTES = Files.size(weights);
            // Loading libtorch's classes allocates ~160 MB of Java heap once; not a parse's doing.
            Files.copy(Path.of("src/test/resources/fixtures/dit/config.json"), DIR.resolve(Checkpoint.CONFIG));
            ModelLoader.load(DIR);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    @DictionaryEntries({"\"_class_name\"", "\"DiTTransformer2DModel\"", "\"sample_size\"", "\"patch_size\"",
        "\"in_channels\"", "\"out_channels\"", "\"num_layers\"", "\"num_attention_heads\"", "\"attention_head_dim\"",
        "\"num_embeds_ada_norm\"", "\"norm_eps\"", "\"attention_bias\"", "2147483647", "65536", "1e-30"})
    void load(byte[] input) throws Throwable {
        ParserContract.write(DIR.resolve(Checkpoint.CONFIG), input);
        check(input.length + WEIGHT_BYTES, DIR.toString(), () -> ModelLoader.load(DIR),
                CheckpointException.class, IOException.class);
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        String config = Files.readString(Path.of("src/test/resources/fixtures/dit/config.json"));
        sink.add("load", "dit-fixture", config);
        // hostile: each must be refused with a CheckpointException naming the directory, and before the model exists
        sink.add("load", "other-layers", config.replace("\"num_layers\": 4", "\"num_layers\": 3"));
        sink.add("load", "other-width", config.replace("\"attention_head_dim\": 16", "\"attention_head_dim\": 8"));
        sink.add("load", "zero-patch", config.replace("\"patch_size\": 2", "\"patch_size\": 0"));
        sink.add("load", "unknown-class", config.replace("DiTTransformer2DModel", "UNet2DModel"));
    }
}
