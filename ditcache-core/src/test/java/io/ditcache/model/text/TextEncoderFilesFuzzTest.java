package io.ditcache.model.text;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets for a text encoder's files: its transformers {@code config.json} described
 * ({@link TextEncoders#describe}) and loaded over fixed, valid weights (the fixture T5; a config the weights cannot
 * fill is refused before the model is allocated), and a {@code tokenizer.json} read for its vocabulary and pad
 * token ({@link TokenizerFiles#parse}; the native tokenizer is not fuzzed here). Documented error:
 * {@link CheckpointException} naming the file (and other {@link IOException}s for the load).
 */
class TextEncoderFilesFuzzTest {
    static final String SOURCE = "fuzz-input/config.json";
    static final String TOKENIZER = "fuzz-input/tokenizer.json";
    private static final String FIXTURE = "src/test/resources/fixtures/pipeline/";
    private static final Path DIR = ParserContract.scratch("text-encoder");
    private static final long WEIGHT_BYTES;

    static {
        try {
            Path weights = Files.copy(Path.of(FIXTURE + "t5/model.safetensors"), DIR.resolve("model.safetensors"));
            WEIGHT_BYTES = Files.size(weights);
            // the first load makes libtorch's classes, once: not a parse's doing
            Files.copy(Path.of(FIXTURE + "t5/config.json"), DIR.resolve(Checkpoint.CONFIG));
            TextEncoders.load(DIR, ComputeType.FLOAT32);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    @DictionaryEntries({"\"architectures\"", "\"CLIPTextModel\"", "\"CLIPTextModelWithProjection\"",
        "\"T5EncoderModel\"", "\"model_type\"", "\"clip_text_model\"", "\"t5\"", "\"vocab_size\"", "\"hidden_size\"",
        "\"num_hidden_layers\"", "\"num_attention_heads\"", "\"d_model\"", "\"d_kv\"", "\"d_ff\"", "\"num_layers\"",
        "\"num_heads\"", "\"feed_forward_proj\"", "\"gated-gelu\"", "\"hidden_act\"", "2147483647", "null"})
    void config(byte[] input) throws Throwable {
        check(input.length, SOURCE, () -> {
            DiffusersConfig c = DiffusersConfig.parse(input, SOURCE);
            if (TextEncoders.isTextEncoder(c)) {
                TextEncoders.describe(c).parameterCount();
            }
        }, CheckpointException.class);
    }

    @FuzzTest
    @DictionaryEntries({"\"architectures\"", "\"T5EncoderModel\"", "\"vocab_size\"", "\"d_model\"", "\"d_kv\"",
        "\"d_ff\"", "\"num_layers\"", "\"num_heads\"", "\"relative_attention_num_buckets\"", "\"feed_forward_proj\"",
        "2147483647", "65536"})
    void load(byte[] input) throws Throwable {
        ParserContract.write(DIR.resolve(Checkpoint.CONFIG), input);
        check(input.length + WEIGHT_BYTES, DIR.toString(), () -> {
            try (Checkpoint ckpt = Checkpoint.open(DIR)) {
                TextEncoders.load(ckpt, MemoryBudget.ofThisMachine(), ComputeType.FLOAT32);
            }
        }, CheckpointException.class, IOException.class);
    }

    @FuzzTest
    @DictionaryEntries({"\"model\"", "\"vocab\"", "\"added_tokens\"", "\"id\"", "\"content\"", "\"padding\"",
        "\"pad_token\"", "2147483647", "-1"})
    void tokenizer(byte[] input) throws Throwable {
        check(input.length, TOKENIZER, () -> TokenizerFiles.parse(input, TOKENIZER, null, "tokenizer_config.json"),
                CheckpointException.class);
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        String clip = Files.readString(Path.of(FIXTURE + "clip/config.json"));
        String t5 = Files.readString(Path.of(FIXTURE + "t5/config.json"));
        sink.add("config", "clip", clip);
        sink.add("config", "t5", t5);
        sink.add("config", "t5-xxl", Files.readString(Path.of(FIXTURE + "configs/t5_v1_1_xxl_encoder/config.json")));
        // hostile: each must be refused with a CheckpointException naming the file
        sink.add("config", "many-layers", t5.replace("\"num_layers\": 2", "\"num_layers\": 2147483647"));
        sink.add("config", "huge-vocab", clip.replace("\"vocab_size\": 664", "\"vocab_size\": 2147483647")
                .replace("\"hidden_size\": 32", "\"hidden_size\": 2147483647"));
        sink.add("config", "two-architectures", clip.replace("\"CLIPTextModelWithProjection\"",
                "\"CLIPTextModel\", \"T5EncoderModel\""));
        sink.add("load", "t5", t5);
        sink.add("load", "other-layers", t5.replace("\"num_layers\": 2", "\"num_layers\": 3"));
        sink.add("load", "other-heads", t5.replace("\"num_heads\": 4", "\"num_heads\": 8"));
        sink.add("load", "clip-over-t5", clip);
        sink.add("tokenizer", "t5", Files.readAllBytes(Path.of(FIXTURE + "t5/tokenizer.json")));
        sink.add("tokenizer", "clip", Files.readAllBytes(Path.of(FIXTURE + "clip/tokenizer.json")));
        sink.add("tokenizer", "huge-id", "{\"model\": {\"vocab\": {\"a\": 9223372036854775807}}}");
        sink.add("tokenizer", "pad-unknown", "{\"model\": {\"vocab\": [[\"a\", 0]]}, \"padding\": {\"pad_token\": "
                + "\"b\"}}");
    }
}
