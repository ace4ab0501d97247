package io.ditcache.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixtures' locally trained tokenizers (a CLIP-layout byte-level BPE and a T5-layout Unigram) read through
 * DJL, against the ids transformers' CLIPTokenizer and T5Tokenizer give for the same three prompts (one with
 * repeated spaces, a tab, a decomposed accent and punctuation; one longer than either maximum).
 */
class PromptTokenizerTest {
    @TempDir
    Path tmp;

    @Test
    void clipIdsEqualTransformers() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        try (PromptTokenizer t = PromptTokenizer.open(dir)) {
            assertEquals(77, t.modelMaxLength());
            assertEquals(663, t.padId());
            assertFalse(t.pipelineMasks());
            TokenizedPrompts got = t.encode(prompts(dir), TokenizeOptions.maxLength(t.modelMaxLength()));
            assertGolden("clip", got);
            // the third prompt is 149 tokens: truncated to bos + 75 + eos
            assertEquals(List.of(new TokenizedPrompts.Truncation(2, 149)), got.truncated());
            assertEquals(663, got.row(2)[76]);
            assertEquals(Arrays.stream(got.row(0)).filter(id -> id != 663).count() + 1,
                    Arrays.stream(got.mask(), 0, 77).sum());
        }
    }

    @Test
    void t5IdsEqualTransformers() throws Exception {
        Path dir = TextFixtures.folder("t5", tmp.resolve("t5"));
        try (PromptTokenizer t = PromptTokenizer.open(dir)) {
            assertEquals(512, t.modelMaxLength());
            assertEquals(0, t.padId());
            assertTrue(t.pipelineMasks());
            TokenizedPrompts got = t.encode(prompts(dir), TokenizeOptions.maxLength(32));
            assertGolden("t5", got);
            // at the fixture's 32, the second prompt (45 tokens) is cut too
            assertEquals(List.of(new TokenizedPrompts.Truncation(1, 45), new TokenizedPrompts.Truncation(2, 114)),
                    got.truncated());
            assertEquals(1, got.row(2)[31]); // </s> kept
        }
    }

    @Test
    void strictRefusesWhatWouldBeTruncated() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        try (PromptTokenizer t = PromptTokenizer.open(dir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode(prompts(dir),
                    TokenizeOptions.maxLength(77).strictLength().from("prompts.txt")));
            assertTrue(e.getMessage().startsWith("prompts.txt: prompt 3 is 149 tokens long with " + dir.resolve(
                    "tokenizer.json")) && e.getMessage().contains("maximum 77"), e.getMessage());
            assertEquals(22, t.encode(prompts(dir).subList(0, 1), TokenizeOptions.maxLength(77).strictLength())
                    .truncated().size() + 22);
        }
    }

    @Test
    void emptyPromptIsRefusedUnlessAllowed() throws Exception {
        Path dir = TextFixtures.folder("t5", tmp.resolve("t5"));
        try (PromptTokenizer t = PromptTokenizer.open(dir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode(List.of("a cat",
                    ""), TokenizeOptions.maxLength(8).from("p.txt")));
            assertTrue(e.getMessage().startsWith("p.txt: prompt 2 is empty") && e.getMessage().contains(
                    "tokenizer.json"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> t.encode(List.of(" \t"),
                    TokenizeOptions.maxLength(8)));
            assertTrue(e.getMessage().startsWith("prompts: prompt 1 is empty (only white space)"), e.getMessage());
            TokenizedPrompts empty = t.encode(List.of(""), TokenizeOptions.maxLength(4).allowingEmpty());
            assertArrayEquals(new long[] {1, 0, 0, 0}, empty.row(0)); // </s> then padding, as T5Tokenizer("")
            assertArrayEquals(new long[] {1, 0, 0, 0}, empty.mask());
        }
    }

    @Test
    void vocabularyIsCheckedAgainstTheEncoder() throws Exception {
        Path clip = TextFixtures.folder("clip", tmp.resolve("clip"));
        Path t5 = TextFixtures.folder("t5", tmp.resolve("t5"));
        try (PromptTokenizer c = PromptTokenizer.open(clip); PromptTokenizer t = PromptTokenizer.open(t5)) {
            assertEquals(664, c.vocabularySize());
            assertEquals(400, t.vocabularySize());
            c.checkVocabulary(664, "clip/config.json");
            t.checkVocabulary(448, "t5/config.json"); // T5's vocab_size is rounded up past the tokenizer's
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.checkVocabulary(448,
                    "t5/config.json"));
            assertTrue(e.getMessage().startsWith(clip.resolve("tokenizer.json") + ": ids up to 663")
                    && e.getMessage().contains("vocab_size 448"), e.getMessage());
        }
    }

    @Test
    void badFilesAreNamed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("none"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> PromptTokenizer.open(dir));
        assertTrue(e.getMessage().startsWith(dir + ": no tokenizer.json"), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}");
        e = assertThrows(CheckpointException.class, () -> PromptTokenizer.open(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json").toString()), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\", \"vocab\": {\"a\": 0}}, "
                + "\"padding\": {\"pad_token\": \"a\"}}");
        e = assertThrows(CheckpointException.class, () -> PromptTokenizer.open(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": not a tokenizer"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        Path t5 = TextFixtures.folder("t5", tmp.resolve("t5"));
        Files.writeString(t5.resolve("tokenizer_config.json"), "{\"pad_token\": \"<nothing>\"}");
        e = assertThrows(CheckpointException.class, () -> PromptTokenizer.open(t5));
        assertTrue(e.getMessage().startsWith(t5.resolve("tokenizer_config.json") + ": pad_token \"<nothing>\""),
                e.getMessage());
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFails() throws Exception {
        PromptTokenizer t = PromptTokenizer.open(TextFixtures.folder("t5", tmp.resolve("t5")));
        // DJL stays offline: no CUDA build fetched, no usage report sent
        assertEquals("true", System.getProperty("ai.djl.offline"));
        t.close();
        t.close();
        assertThrows(IllegalStateException.class, () -> t.encode(List.of("a"), TokenizeOptions.maxLength(4)));
    }

    static List<String> prompts(Path dir) throws Exception {
        return Arrays.asList(new ObjectMapper().readValue(dir.resolve("prompts.json").toFile(), String[].class));
    }

    private void assertGolden(String name, TokenizedPrompts got) throws Exception {
        try (SafetensorsFile golden = SafetensorsFile.open(TextFixtures.golden(name, tmp));
                PointerScope scope = new PointerScope()) {
            assertArrayEquals(golden.longs("input_ids"), got.ids(), name + " input_ids");
            assertArrayEquals(golden.info("input_ids").dims(), Tensors.shape(got.inputIds()));
            if (golden.contains("attention_mask")) {
                assertArrayEquals(golden.longs("attention_mask"), got.mask(), name + " attention_mask");
            }
        }
    }
}
