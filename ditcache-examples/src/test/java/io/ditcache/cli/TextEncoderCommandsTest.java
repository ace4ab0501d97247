package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokenize}, {@code run} and {@code inspect} on the pipeline fixtures' CLIP and T5 folders (tokenizer and
 * encoder in one folder), against the ids and states transformers gave.
 */
class TextEncoderCommandsTest {
    static final String ROOT = "/fixtures/pipeline/";
    static final String[] FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "prompts.json", "golden.safetensors"};

    @TempDir
    Path tmp;

    @Test
    void tokenizeClipAsThePipelines() throws IOException {
        Path dir = fixture("clip");
        Path prompts = prompts(dir);
        Path out = tmp.resolve("ids.safetensors");
        CliRun r = CliRun.of("tokenize", "--model", dir.toString(), "--prompts", prompts.toString(), "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("tokenize: warning: " + prompts + " line 3: 149 tokens, more than 77: "
                + "truncated"), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
                SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            assertEquals(Set.of("input_ids"), got.names(), "CLIP pipelines pass no attention_mask");
            assertArrayEquals(golden.info("input_ids").dims(), got.info("input_ids").dims());
            assertArrayEquals(golden.longs("input_ids"), got.longs("input_ids"));
        }
    }

    @Test
    void tokenizeT5WithItsMask() throws IOException {
        Path dir = fixture("t5");
        Path out = tmp.resolve("ids.safetensors");
        CliRun r = CliRun.of("tokenize", "--model", dir.toString(), "--max-length", "32", "--prompts",
                prompts(dir).toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(2, r.errLines().size(), r.toString()); // prompts 2 and 3 exceed 32
        try (SafetensorsFile got = SafetensorsFile.open(out);
                SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            assertArrayEquals(golden.longs("input_ids"), got.longs("input_ids"));
            assertArrayEquals(golden.longs("attention_mask"), got.longs("attention_mask"));
        }
    }

    @Test
    void tokenizeRefusals() throws IOException {
        Path dir = fixture("clip");
        Path prompts = prompts(dir);
        Path out = tmp.resolve("ids.safetensors");
        CliRun r = CliRun.of("tokenize", "--model", dir.toString(), "--prompts", prompts.toString(), "--out",
                out.toString(), "--strict");
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("tokenize: " + prompts + ": prompt 3 is 149 tokens long"), r.err());
        assertFalse(Files.exists(out));

        Path empty = Files.writeString(tmp.resolve("empty.txt"), "a red cube\n\na blue ball\n");
        r = CliRun.of("tokenize", "--model", dir.toString(), "--prompts", empty.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("tokenize: " + empty + ": prompt 2 is empty"), r.err());

        // CLIP's tokenizer (664 ids) beside T5's encoder (vocab_size 448)
        Path t5 = fixture("t5");
        Files.copy(dir.resolve("tokenizer.json"), t5.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.delete(t5.resolve("tokenizer_config.json"));
        Files.writeString(t5.resolve("tokenizer_config.json"), "{\"pad_token\": \"<|endoftext|>\"}");
        r = CliRun.of("tokenize", "--model", t5.toString(), "--max-length", "77", "--prompts", prompts.toString(),
                "--out", out.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("tokenize: " + t5.resolve("tokenizer.json") + ": ids up to 663"), r.err());
        assertTrue(r.err().contains(t5.resolve("config.json") + " has vocab_size 448"), r.err());
    }

    @Test
    void runClipWritesItsOutputs() throws IOException {
        Path dir = fixture("clip");
        Path inputs = FixtureDit.inputs(tmp.resolve("in.safetensors"), dir.resolve("golden.safetensors"),
                Map.of("input_ids", "input_ids"));
        for (String dtype : new String[] {"float32", "bfloat16"}) {
            Path out = tmp.resolve(dtype + ".safetensors");
            CliRun r = CliRun.of("run", "--model", dir.toString(), "--inputs", inputs.toString(), "--out",
                    out.toString(), "--dtype", dtype);
            assertEquals(0, r.exitCode(), r.toString());
            double tolerance = dtype.equals("float32") ? 1e-4 : 0.2;
            try (SafetensorsFile got = SafetensorsFile.open(out);
                    SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"));
                    PointerScope scope = new PointerScope()) {
                assertEquals(Set.of("last_hidden_state", "text_embeds", "hidden_states_penultimate", "pooler_output"),
                        got.names());
                for (String name : got.names()) {
                    double err = got.load(name).sub(golden.load(name)).abs().max().item_double();
                    assertTrue(err <= tolerance, dtype + " " + name + " max abs error " + err);
                    assertEquals(ScalarType.Float, got.load(name).scalar_type().intern());
                }
            }
        }
    }

    @Test
    void runT5WithAndWithoutTheMask() throws IOException {
        Path dir = fixture("t5");
        Path golden = dir.resolve("golden.safetensors");
        Path ids = FixtureDit.inputs(tmp.resolve("ids.safetensors"), golden, Map.of("input_ids", "input_ids"));
        Path masked = FixtureDit.inputs(tmp.resolve("masked.safetensors"), golden, Map.of("input_ids", "input_ids",
                "attention_mask", "attention_mask"));
        for (Path inputs : new Path[] {ids, masked}) {
            Path out = tmp.resolve("out.safetensors");
            CliRun r = CliRun.of("run", "--model", dir.toString(), "--inputs", inputs.toString(), "--out",
                    out.toString());
            assertEquals(0, r.exitCode(), r.toString());
            try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile g = SafetensorsFile.open(golden);
                    PointerScope scope = new PointerScope()) {
                assertEquals(Set.of("last_hidden_state"), got.names());
                String want = inputs == ids ? "last_hidden_state" : "last_hidden_state_masked";
                double err = got.load("last_hidden_state").sub(g.load(want)).abs().max().item_double();
                assertTrue(err <= 1e-4, want + " max abs error " + err);
            }
        }
    }

    @Test
    void runRefusesWhatAnEncoderDoesNotTake() throws IOException {
        Path dir = fixture("t5");
        Path golden = dir.resolve("golden.safetensors");
        Path bad = FixtureDit.inputs(tmp.resolve("bad.safetensors"), golden, Map.of("input_ids", "input_ids",
                "encoder_hidden_states", "last_hidden_state"));
        Path out = tmp.resolve("out.safetensors");
        CliRun r = CliRun.of("run", "--model", dir.toString(), "--inputs", bad.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("run: " + bad + ": unknown input tensors [encoder_hidden_states]"), r.err());
        Path clipIds = FixtureDit.inputs(tmp.resolve("clip-ids.safetensors"), fixture("clip").resolve(
                "golden.safetensors"), Map.of("input_ids", "input_ids"));
        r = CliRun.of("run", "--model", dir.toString(), "--inputs", clipIds.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("run: " + clipIds + ": T5EncoderModel: input_ids holds id 66"), r.err());
        r = CliRun.of("run", "--model", dir.toString(), "--inputs", clipIds.toString(), "--out", out.toString(),
                "--capture");
        assertEquals(2, r.exitCode(), r.toString());
    }

    @Test
    void inspectReportsClassAndParameters() throws IOException {
        Path dir = fixture("clip");
        CliRun r = CliRun.of("inspect", "--model", dir.toString());
        assertEquals(0, r.exitCode(), r.toString());
        long elements;
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            elements = f.names().stream().mapToLong(n -> f.info(n).numel()).sum();
        }
        assertEquals("class: CLIPTextModelWithProjection (text encoder)", InspectCommandTest.line(r, "class: "));
        assertEquals("parameters: " + elements, InspectCommandTest.line(r, "parameters: "));
        assertTrue(InspectCommandTest.line(r, "weights elements: ").endsWith("(the parameters the config defines)"));

        Path config = copy(ROOT + "configs/t5_v1_1_xxl_encoder/config.json", tmp.resolve("xxl/config.json"));
        JsonNode counts = new ObjectMapper().readTree(Files.readString(copy(ROOT + "configs/param_counts.json",
                tmp.resolve("counts.json"))));
        r = CliRun.of("inspect", "--config", config.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("class: T5EncoderModel (text encoder)", InspectCommandTest.line(r, "class: "));
        assertEquals("parameters: " + counts.get("t5_v1_1_xxl_encoder").get("total").longValue(),
                InspectCommandTest.line(r, "parameters: "));
    }

    private Path fixture(String name) throws IOException {
        Path dir = tmp.resolve(name);
        for (String f : FILES) {
            copy(ROOT + name + "/" + f, dir.resolve(f));
        }
        return dir;
    }

    /** The fixture's prompts.json as a prompts file, one per line. */
    private Path prompts(Path dir) throws IOException {
        String[] p = new ObjectMapper().readValue(dir.resolve("prompts.json").toFile(), String[].class);
        return Files.writeString(tmp.resolve("prompts.txt"), String.join("\n", p) + "\n");
    }

    private static Path copy(String resource, Path target) throws IOException {
        try (InputStream in = TextEncoderCommandsTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource missing: " + resource);
            }
            Files.createDirectories(target.toAbsolutePath().getParent());
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }
}
