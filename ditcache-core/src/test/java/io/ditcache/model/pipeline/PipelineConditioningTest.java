package io.ditcache.model.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ComputeType;
import io.ditcache.model.text.TokenizeOptions;
import io.ditcache.sample.PromptEmbeddings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conditioning each pipeline builds, from the golden fixtures' tiny CLIP and T5 (T5 at 32 tokens, the length
 * of its golden states), against what transformers gave: FLUX (T5's unmasked states, CLIP's pooler_output),
 * PixArt-α and Mochi (T5 with the mask, PixArt lower-casing), CogVideoX (T5 unmasked); SD3's width rule; and the
 * embedding cache (hits, negatives, a new fingerprint when an encoder changes).
 */
class PipelineConditioningTest {
    private static final String ROOT = "/fixtures/pipeline/";
    private static final double TOLERANCE = 1e-4;
    @TempDir
    Path tmp;

    private Path folder(String cls, String... pairs) throws IOException {
        Path p = tmp.resolve(cls);
        Files.createDirectories(p.resolve("transformer"));
        StringBuilder index = new StringBuilder("{\"_class_name\": \"" + cls + "\", \"transformer\": [\"diffusers\", "
                + "\"X\"]");
        for (int i = 0; i < pairs.length; i += 2) {
            String fixture = pairs[i + 1];
            String suffix = pairs[i];
            copy(fixture, p.resolve("text_encoder" + suffix), "config.json", "model.safetensors");
            copy(fixture, p.resolve("tokenizer" + suffix), "tokenizer.json", "tokenizer_config.json");
            index.append(", \"text_encoder").append(suffix).append("\": [\"transformers\", \"E\"], \"tokenizer")
                    .append(suffix).append("\": [\"transformers\", \"T\"]");
        }
        Files.writeString(p.resolve("model_index.json"), index.append("}").toString());
        return p;
    }

    private static void copy(String fixture, Path target, String... files) throws IOException {
        Files.createDirectories(target);
        for (String f : files) {
            try (InputStream in = PipelineConditioningTest.class.getResourceAsStream(ROOT + fixture + "/" + f)) {
                Files.copy(in, target.resolve(f));
            }
        }
    }

    private static List<String> prompts() throws IOException {
        try (InputStream in = PipelineConditioningTest.class.getResourceAsStream(ROOT + "t5/prompts.json")) {
            return Arrays.asList(new ObjectMapper().readValue(in, String[].class));
        }
    }

    private static float[] golden(String fixture, String name, int row) throws IOException {
        Path f = Files.createTempFile("golden", ".safetensors");
        try (InputStream in = PipelineConditioningTest.class.getResourceAsStream(ROOT + fixture
                + "/golden.safetensors")) {
            Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            long[] d = s.info(name).dims();
            int per = (int) (Arrays.stream(d).reduce(1, Math::multiplyExact) / d[0]);
            float[] all = s.info(name).dtype().isFloatingPoint() ? s.floats(name) : toFloats(s.longs(name));
            return Arrays.copyOfRange(all, row * per, (row + 1) * per);
        } finally {
            Files.delete(f);
        }
    }

    private static float[] toFloats(long[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }

    private static void close(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        assertTrue(worst <= TOLERANCE, what + ": max abs error " + worst);
    }

    private static List<EncodedPrompt> encode(Path p, List<String> prompts) throws IOException {
        PipelineFolder f = PipelineFolder.open(p);
        PipelineKind kind = PipelineKind.of(f);
        try (PromptEncoder e = PromptEncoder.open(f, ComputeType.FLOAT32, 32)) {
            return e.encode(prompts.stream().map(kind::preprocess).toList(),
                    new TokenizeOptions(2, false, true, "test"));
        }
    }

    @Test
    void fluxTakesT5StatesUnmaskedAndClipPooled() throws IOException {
        List<String> prompts = prompts();
        List<EncodedPrompt> got = encode(folder("FluxPipeline", "", "clip", "_2", "t5"), prompts);
        for (int i = 0; i < prompts.size(); i++) {
            EncodedPrompt e = got.get(i);
            assertEquals(32, e.tokens());
            assertEquals(32, e.width());
            close("hidden " + i, golden("t5", "last_hidden_state", i), e.hidden());
            close("pooled " + i, golden("clip", "pooler_output", i), e.pooled());
            assertNull(e.mask(), "FLUX passes no mask");
        }
        assertTrue(got.get(2).truncation().contains("more than 77"), got.get(2).truncation());
        assertTrue(got.get(2).truncation().contains("more than 32"), got.get(2).truncation());
        assertNull(got.get(0).truncation());
    }

    @Test
    void pixArtAndMochiMaskT5AndPixArtLowerCases() throws IOException {
        List<String> prompts = prompts();
        List<EncodedPrompt> mochi = encode(folder("MochiPipeline", "", "t5"), prompts);
        List<EncodedPrompt> pixart = encode(folder("PixArtAlphaPipeline", "", "t5"), prompts);
        for (int i = 0; i < prompts.size(); i++) {
            close("mochi hidden " + i, golden("t5", "last_hidden_state_masked", i), mochi.get(i).hidden());
            close("mochi mask " + i, golden("t5", "attention_mask", i), toFloats(mochi.get(i).mask()));
            assertNull(mochi.get(i).pooled());
        }
        // prompts 0 and 2 are lower case already: PixArt's preprocessing leaves them as they are
        for (int i : new int[] {0, 2}) {
            close("pixart hidden " + i, golden("t5", "last_hidden_state_masked", i), pixart.get(i).hidden());
        }
        assertNotEquals(Arrays.toString(mochi.get(1).hidden()), Arrays.toString(pixart.get(1).hidden()),
                "PixArt lower-cases \"A Watercolor ...\"");
    }

    @Test
    void cogVideoXTakesT5Unmasked() throws IOException {
        List<String> prompts = prompts();
        List<EncodedPrompt> got = encode(folder("CogVideoXPipeline", "", "t5"), prompts);
        for (int i = 0; i < prompts.size(); i++) {
            close("hidden " + i, golden("t5", "last_hidden_state", i), got.get(i).hidden());
            assertNull(got.get(i).mask());
        }
    }

    /** Rewrites the encoder in {@code dir} with random weights of its config's shapes, after {@code edit}. */
    private static void randomEncoder(Path dir, java.util.function.UnaryOperator<String> edit, long seed)
            throws IOException {
        Path config = dir.resolve("config.json");
        Files.writeString(config, edit.apply(Files.readString(config)));
        io.ditcache.model.text.TextEncoderDescription d = io.ditcache.model.text.TextEncoders.describe(
                io.ditcache.io.DiffusersConfig.read(config));
        java.util.Random rnd = new java.util.Random(seed);
        io.ditcache.io.SafetensorsWriter w = new io.ditcache.io.SafetensorsWriter().metadata("format", "pt");
        for (var e : d.parameters().entrySet()) {
            float[] v = new float[(int) Arrays.stream(e.getValue()).reduce(1, Math::multiplyExact)];
            boolean norm = e.getKey().contains("layer_norm") || e.getKey().contains("layer_norm1")
                    || e.getKey().contains("layer_norm2");
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((norm && e.getKey().endsWith("weight") ? 1 : 0) + rnd.nextGaussian() * 0.1);
            }
            w.put(e.getKey(), v, e.getValue());
        }
        w.write(dir.resolve("model.safetensors"));
    }

    @Test
    void sd3SetsBothClipsSideBySidePadsThemToT5AndPutsT5After() throws IOException {
        Path p = folder("StableDiffusion3Pipeline", "", "clip", "_2", "clip", "_3", "t5");
        randomEncoder(p.resolve("text_encoder_2"), c -> c, 7); // bigG's place: another CLIP of the same sizes
        randomEncoder(p.resolve("text_encoder_3"), c -> c.replace("\"d_model\": 32", "\"d_model\": 80")
                .replace("\"d_kv\": 8", "\"d_kv\": 20"), 8); // T5 wider than both CLIPs: 16 columns of padding
        List<String> prompts = List.of("a photo of a cat sitting on a red chair", "a red cube");
        List<EncodedPrompt> got = encode(p, prompts);
        List<io.ditcache.model.text.TextEncoderOutput> outs = new java.util.ArrayList<>();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            int[] lengths = {77, 77, 32};
            String[] names = {"", "_2", "_3"};
            float[][] pen = new float[3][];
            float[][] proj = new float[3][];
            for (int s = 0; s < 3; s++) {
                try (io.ditcache.model.text.PromptTokenizer tok = io.ditcache.model.text.PromptTokenizer.open(
                        p.resolve("tokenizer" + names[s]))) {
                    var ids = tok.encode(prompts, TokenizeOptions.maxLength(lengths[s]));
                    var enc = io.ditcache.model.text.TextEncoders.load(p.resolve("text_encoder" + names[s]),
                            ComputeType.FLOAT32);
                    var out = enc.forward(ids.inputIds(), null);
                    pen[s] = io.ditcache.internal.Tensors.toFloats(s < 2 ? out.hiddenStatesPenultimate().contiguous()
                            : out.lastHiddenState().contiguous());
                    proj[s] = s < 2 ? io.ditcache.internal.Tensors.toFloats(out.textEmbeds().contiguous()) : null;
                }
            }
            for (int r = 0; r < prompts.size(); r++) {
                EncodedPrompt e = got.get(r);
                assertEquals(77 + 32, e.tokens());
                assertEquals(80, e.width());
                float[] want = new float[(77 + 32) * 80];
                for (int t = 0; t < 77; t++) {
                    System.arraycopy(pen[0], (r * 77 + t) * 32, want, t * 80, 32);
                    System.arraycopy(pen[1], (r * 77 + t) * 32, want, t * 80 + 32, 32);
                }
                System.arraycopy(pen[2], r * 32 * 80, want, 77 * 80, 32 * 80);
                close("hidden " + r, want, e.hidden());
                float[] pooled = new float[32];
                System.arraycopy(proj[0], r * 16, pooled, 0, 16);
                System.arraycopy(proj[1], r * 16, pooled, 16, 16);
                close("pooled " + r, pooled, e.pooled());
                assertNull(e.mask());
            }
        }
    }

    @Test
    void sd3RefusesClipStatesWiderThanT5() throws IOException {
        Path p = folder("StableDiffusion3Pipeline", "", "clip", "_2", "clip", "_3", "t5");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> PromptEncoder.open(PipelineFolder.open(p), ComputeType.FLOAT32, 32));
        assertTrue(e.getMessage().startsWith(p.resolve("model_index.json") + ": the CLIP encoders' widths add up to "
                + "64, more than T5's 32"), e.getMessage());
    }

    @Test
    void theCacheEncodesEachPromptOnceAndKeepsTheNegative() throws IOException {
        Path p = folder("MochiPipeline", "", "t5");
        PipelineFolder f = PipelineFolder.open(p);
        EmbeddingCache cache = new EmbeddingCache(tmp.resolve("cache"));
        EmbeddingCache.Request r = new EmbeddingCache.Request(List.of("a red cube", "a blue ball"), null, "test",
                false, 32, ComputeType.FLOAT32);
        EmbeddingCache.Result first = cache.prepare(f, r);
        assertEquals(0, first.hits());
        assertEquals(3, first.encoded(), "two prompts and the negative \"\"");
        EmbeddingCache.Result second = cache.prepare(f, r);
        assertEquals(3, second.hits());
        assertEquals(0, second.encoded());
        try (PromptEmbeddings e = PromptEmbeddings.read(second.file())) {
            assertEquals(2, e.prompts());
            assertTrue(e.hasNegatives());
            assertEquals(32, e.tokens());
        }
        List<EncodedPrompt> direct = encode(p, List.of("a blue ball", ""));
        try (SafetensorsFile s = SafetensorsFile.open(second.file())) {
            float[] h = s.floats("encoder_hidden_states");
            close("cached row 1", direct.get(0).hidden(), Arrays.copyOfRange(h, 32 * 32, 2 * 32 * 32));
            close("negative", direct.get(1).hidden(), s.floats("negative_encoder_hidden_states"));
            assertArrayEquals(direct.get(1).mask(), s.longs("negative_encoder_attention_mask"));
        }
        // a changed encoder config is a new fingerprint: encoded again
        String config = Files.readString(p.resolve("text_encoder/config.json"));
        Files.writeString(p.resolve("text_encoder/config.json"), config.replace("\"dropout_rate\": 0.0",
                "\"dropout_rate\": 0.1"));
        EmbeddingCache.Result third = cache.prepare(PipelineFolder.open(p), r);
        assertEquals(0, third.hits());
        assertEquals(3, third.encoded());
    }

    @Test
    void mochiZeroingTheEmptyPromptIsRefusedNamingTheIndex() throws IOException {
        Path p = folder("MochiPipeline", "", "t5");
        Path index = p.resolve("model_index.json");
        Files.writeString(index, Files.readString(index).replace("{", "{\"force_zeros_for_empty_prompt\": true, "));
        EmbeddingCache cache = new EmbeddingCache(tmp.resolve("cache"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cache.prepare(
                PipelineFolder.open(p), new EmbeddingCache.Request(List.of("a red cube"), null, "test", false, 32,
                        ComputeType.FLOAT32)));
        assertTrue(e.getMessage().startsWith(index + ": force_zeros_for_empty_prompt is true"), e.getMessage());
        // a non-empty negative prompt is encoded as any prompt
        EmbeddingCache.Result r = cache.prepare(PipelineFolder.open(p), new EmbeddingCache.Request(
                List.of("a red cube"), "blurry", "test", false, 32, ComputeType.FLOAT32));
        assertTrue(r.negative());
    }

    @Test
    void builtinPromptsAreAHundredDistinctPrompts() {
        List<String> all = BuiltinPrompts.all();
        assertEquals(100, all.size());
        assertEquals(100, all.stream().distinct().count());
        assertEquals("a red cube on a white table, soft studio light", all.get(0));
        assertEquals(all.subList(0, 5), BuiltinPrompts.first(5));
    }
}
