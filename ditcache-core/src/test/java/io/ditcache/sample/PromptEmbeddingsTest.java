package io.ditcache.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.io.DType;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.LatentSize;
import io.ditcache.model.TextEmbeddings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading prompt embeddings, and each of its refusals, one line naming the file, the tensor and the value. */
class PromptEmbeddingsTest {
    static final int P = 2;
    static final int T = 3;
    static final int W = 4;
    static final int W2 = 5;
    @TempDir
    Path dir;

    static float[] ramp(int n, float from) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = from + i * 0.25f;
        }
        return v;
    }

    /** A complete, valid file: prompts with pooled vectors and masks, and one shared negative. */
    static Map<String, Consumer<SafetensorsWriter>> parts() {
        Map<String, Consumer<SafetensorsWriter>> m = new LinkedHashMap<>();
        m.put("encoder_hidden_states", w -> w.put("encoder_hidden_states", ramp(P * T * W, 0), P, T, W));
        m.put("pooled_projections", w -> w.put("pooled_projections", ramp(P * W2, 10), P, W2));
        m.put("encoder_attention_mask", w -> w.put("encoder_attention_mask", new long[] {1, 1, 0, 1, 0, 0}, P, T));
        m.put("negative_encoder_hidden_states", w -> w.put("negative_encoder_hidden_states", ramp(T * W, -5), 1, T,
                W));
        m.put("negative_pooled_projections", w -> w.put("negative_pooled_projections", ramp(W2, -9), 1, W2));
        m.put("negative_encoder_attention_mask", w -> w.put("negative_encoder_attention_mask", new long[] {1, 0, 0},
                1, T));
        return m;
    }

    static SafetensorsWriter full() {
        SafetensorsWriter w = new SafetensorsWriter();
        parts().values().forEach(p -> p.accept(w));
        return w;
    }

    Path write(SafetensorsWriter w) throws IOException {
        Path f = dir.resolve("emb-" + System.nanoTime() + ".safetensors");
        w.write(f);
        return f;
    }

    /** {@code full()} with tensor {@code name} written by {@code put} instead (or added). */
    Path edited(String name, Consumer<SafetensorsWriter> put) throws IOException {
        Map<String, Consumer<SafetensorsWriter>> m = parts();
        m.put(name, put);
        SafetensorsWriter w = new SafetensorsWriter();
        m.values().forEach(p -> p.accept(w));
        return write(w);
    }

    void refused(Path f, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptEmbeddings.read(f));
        assertEquals(f + ": " + expected, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void readsPromptsPooledMasksAndASharedNegative() throws IOException {
        try (PromptEmbeddings e = PromptEmbeddings.read(write(full()))) {
            assertEquals(P, e.prompts());
            assertEquals(T, e.tokens());
            assertEquals(W, e.width());
            assertEquals(Optional.of((long) W2), e.pooledWidth());
            assertTrue(e.hasNegatives());
            TextEmbeddings second = e.prompt(1, Optional.empty());
            assertArrayEquals(Arrays.copyOfRange(ramp(P * T * W, 0), T * W, 2 * T * W),
                    Tensors.toFloats(second.hiddenStates()));
            assertArrayEquals(new long[] {1, 0, 0}, Tensors.toLongs(second.mask().get()));
            assertArrayEquals(Arrays.copyOfRange(ramp(P * W2, 10), W2, 2 * W2), Tensors.toFloats(second.pooled()
                    .get()));
            for (int p = 0; p < P; p++) {
                TextEmbeddings n = e.negative(p, Optional.empty()).get();
                assertArrayEquals(ramp(T * W, -5), Tensors.toFloats(n.hiddenStates()), "one negative for all");
                assertArrayEquals(ramp(W2, -9), Tensors.toFloats(n.pooled().get()));
            }
            List<Condition> conds = e.conditions(List.of(7L, 8L, 9L), Optional.of(LatentSize.image(2, 4)));
            assertEquals(P * 3, conds.size(), "prompts x seeds");
            assertEquals(8L, conds.get(4).seed());
            assertArrayEquals(Tensors.toFloats(e.prompt(1, Optional.empty()).hiddenStates()),
                    Tensors.toFloats(((TextEmbeddings) conds.get(4).conditioning()).hiddenStates()), "prompt-major");
            assertEquals(Optional.of(LatentSize.image(2, 4)), conds.get(4).conditioning().size());
            assertTrue(conds.stream().allMatch(c -> c.negative().isPresent()));
        }
    }

    @Test
    void negativesMayBeOnePerPromptAndEverythingButTheStatesIsOptional() throws IOException {
        Path f = write(new SafetensorsWriter()
                .put("encoder_hidden_states", ramp(P * T * W, 0), P, T, W)
                .put("negative_encoder_hidden_states", ramp(P * T * W, 3), P, T, W));
        try (PromptEmbeddings e = PromptEmbeddings.read(f)) {
            assertArrayEquals(Arrays.copyOfRange(ramp(P * T * W, 3), T * W, 2 * T * W),
                    Tensors.toFloats(e.negative(1, Optional.empty()).get().hiddenStates()));
            assertTrue(e.prompt(0, Optional.empty()).mask().isEmpty());
            assertTrue(e.pooledWidth().isEmpty());
        }
        Path plain = write(new SafetensorsWriter().putBytes("encoder_hidden_states", DType.F16,
                new byte[2 * T * W], 1, T, W));
        try (PromptEmbeddings e = PromptEmbeddings.read(plain)) {
            assertFalse(e.hasNegatives());
            assertTrue(e.negative(0, Optional.empty()).isEmpty());
            assertTrue(e.conditions(List.of(1L), Optional.empty()).get(0).negative().isEmpty());
        }
    }

    @Test
    void closingTwiceIsFineAndUseAfterCloseIsNamed() throws IOException {
        Path f = write(full());
        PromptEmbeddings e = PromptEmbeddings.read(f);
        e.close();
        e.close();
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> e.prompt(0, Optional.empty()));
        assertEquals("prompt embeddings of " + f + " are closed", s.getMessage());
    }

    @Test
    void namesAndPresenceAreChecked() throws IOException {
        refused(write(new SafetensorsWriter().put("pooled_projections", ramp(W2, 0), 1, W2)),
                "no tensor \"encoder_hidden_states\" (has pooled_projections), expected [prompts, tokens, width] "
                        + "float embeddings, one entry per prompt");
        refused(edited("prompt_embeds",
                w -> w.put("prompt_embeds", ramp(1, 0), 1)), "tensor \"prompt_embeds\" is not a "
                + "prompt-embeddings tensor, expected some of [encoder_hidden_states, pooled_projections, "
                + "encoder_attention_mask, negative_encoder_hidden_states, negative_pooled_projections, "
                + "negative_encoder_attention_mask]");
        refused(write(new SafetensorsWriter().put("encoder_hidden_states", ramp(T * W, 0), 1, T, W)
                .put("negative_pooled_projections", ramp(W2, 0), 1, W2)),
                "tensor \"negative_pooled_projections\" is given without negative_encoder_hidden_states, expected "
                        + "both or neither");
        refused(write(new SafetensorsWriter().put("encoder_hidden_states", ramp(T * W, 0), 1, T, W)
                .put("pooled_projections", ramp(W2, 0), 1, W2)
                .put("negative_encoder_hidden_states", ramp(T * W, 0), 1, T, W)),
                "tensor \"negative_pooled_projections\" is missing while pooled_projections is given; a guided batch "
                        + "stacks prompts and negatives, so give both or neither");
        refused(write(new SafetensorsWriter().put("encoder_hidden_states", ramp(T * W, 0), 1, T, W)
                .put("negative_encoder_hidden_states", ramp(T * W, 0), 1, T, W)
                .put("negative_encoder_attention_mask", new long[] {1, 1, 1}, 1, T)),
                "tensor \"encoder_attention_mask\" is missing while negative_encoder_attention_mask is given; a "
                        + "guided batch stacks prompts and negatives, so give both or neither");
    }

    @Test
    void dtypesAreChecked() throws IOException {
        refused(edited("encoder_hidden_states", w -> w.put("encoder_hidden_states", new long[P * T * W], P, T, W)),
                "tensor \"encoder_hidden_states\" has dtype I64, expected a float type (F32, F16, BF16, F64)");
        refused(edited("pooled_projections", w -> w.put("pooled_projections", new long[P * W2], P, W2)),
                "tensor \"pooled_projections\" has dtype I64, expected a float type (F32, F16, BF16, F64)");
        refused(edited("encoder_attention_mask", w -> w.put("encoder_attention_mask", ramp(P * T, 1), P, T)),
                "tensor \"encoder_attention_mask\" has dtype F32, expected BOOL or an integer type (1 = attend, 0 = "
                        + "padding)");
        refused(edited("negative_encoder_hidden_states",
                w -> w.put("negative_encoder_hidden_states", new long[T * W], 1, T, W)),
                "tensor \"negative_encoder_hidden_states\" has dtype I64, expected a float type (F32, F16, BF16, F64)");
    }

    @Test
    void shapesAndRowCountsAreChecked() throws IOException {
        refused(edited("encoder_hidden_states", w -> w.put("encoder_hidden_states", ramp(P * T * W, 0), P, T * W)),
                "tensor \"encoder_hidden_states\" has shape [2, 12], expected [prompts, tokens, width] with each >= 1");
        refused(edited("encoder_hidden_states", w -> w.put("encoder_hidden_states", new float[0], P, 0, W)),
                "tensor \"encoder_hidden_states\" has shape [2, 0, 4], expected [prompts, tokens, width] with each "
                        + ">= 1");
        refused(edited("pooled_projections", w -> w.put("pooled_projections", ramp(W2, 0), 1, W2)),
                "tensor \"pooled_projections\" has 1 rows, expected 2 (one per prompt of encoder_hidden_states)");
        refused(edited("pooled_projections", w -> w.put("pooled_projections", ramp(P * W2, 0), P, W2, 1)),
                "tensor \"pooled_projections\" has shape [2, 5, 1], expected [prompts, width] with each >= 1");
        refused(edited("encoder_attention_mask", w -> w.put("encoder_attention_mask", new long[P * (T + 1)], P, T + 1)),
                "tensor \"encoder_attention_mask\" has shape [2, 4], expected [2, 3] (the rows and tokens of "
                        + "encoder_hidden_states)");
        refused(edited("negative_encoder_hidden_states",
                w -> w.put("negative_encoder_hidden_states", ramp(3 * T * W, 0), 3, T, W)),
                "tensor \"negative_encoder_hidden_states\" has 3 rows, expected 1 or 2 (one negative for all prompts "
                        + "or one per prompt)");
        refused(edited("negative_encoder_hidden_states",
                w -> w.put("negative_encoder_hidden_states", ramp(2 * T * W, 0), 1, 2 * T, W)),
                "tensor \"negative_encoder_hidden_states\" has shape [1, 6, 4], expected [1 or 2, 3, 4] (the tokens "
                        + "and width of encoder_hidden_states: a guided batch stacks both)");
        refused(edited("negative_pooled_projections",
                w -> w.put("negative_pooled_projections", ramp(W2 + 1, 0), 1, W2 + 1)),
                "tensor \"negative_pooled_projections\" has shape [1, 6], expected [1, 5] (the rows of "
                        + "negative_encoder_hidden_states, the width of pooled_projections)");
        refused(edited("negative_encoder_attention_mask",
                w -> w.put("negative_encoder_attention_mask", new long[] {1, 0, 0, 1, 0, 0}, 2, T)),
                "tensor \"negative_encoder_attention_mask\" has shape [2, 3], expected [1, 3] (the rows and tokens "
                        + "of negative_encoder_hidden_states)");
    }

    @Test
    void valuesAreChecked() throws IOException {
        float[] nan = ramp(P * T * W, 0);
        nan[5] = Float.NaN;
        nan[7] = Float.POSITIVE_INFINITY;
        refused(edited("encoder_hidden_states", w -> w.put("encoder_hidden_states", nan, P, T, W)),
                "tensor \"encoder_hidden_states\" holds 2 non-finite values (NaN or infinite) of 24, expected finite "
                        + "embeddings");
        refused(edited("encoder_attention_mask",
                w -> w.put("encoder_attention_mask", new long[] {1, 1, 0, 1, 2, 0}, P, T)),
                "tensor \"encoder_attention_mask\" holds 2 at row 1, token 1, expected 0 (padding) or 1 (attend)");
        refused(edited("negative_encoder_attention_mask",
                w -> w.put("negative_encoder_attention_mask", new long[] {0, 0, 0}, 1, T)),
                "tensor \"negative_encoder_attention_mask\" row 0 attends to no token, expected at least one 1");
    }

    @Test
    void theSizeIsCheckedAgainstMemoryBeforeLoading() throws IOException {
        Path f = write(full());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptEmbeddings.read(f, new MemoryBudget(1 << 20, 100)));
        assertTrue(e.getMessage().startsWith(f + ": the prompt embeddings as float32 needs "), e.getMessage());
    }

    @Test
    void aFileThatIsNotSafetensorsIsNamed() throws IOException {
        Path f = dir.resolve("prompts.safetensors");
        Files.writeString(f, "not a safetensors file");
        IOException e = assertThrows(IOException.class, () -> PromptEmbeddings.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
