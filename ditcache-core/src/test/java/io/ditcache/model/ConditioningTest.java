package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.sample.Condition;
import java.util.List;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each kind of conditioning validates what it holds, naming the field, and stacks into a batch. */
class ConditioningTest {

    private static Tensor zeros(ScalarType type, long... shape) {
        return torch.zeros(shape, new TensorOptions(type));
    }

    private static void refused(String field, Executable make) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make);
        assertTrue(e.getMessage().contains(field), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void latentSizesAreWholeAndFit() {
        assertEquals(new LatentSize(1, 4, 6), LatentSize.image(4, 6));
        assertTrue(new LatentSize(16, 60, 90).frames() == 16 && !new LatentSize(16, 60, 90).isImage());
        refused("frames is 0", () -> new LatentSize(0, 4, 4));
        refused("height is -1", () -> new LatentSize(1, -1, 4));
        refused("width is 0", () -> LatentSize.image(4, 0));
        refused("positions", () -> new LatentSize(1L << 31, 1L << 31, 1L << 31));
    }

    @Test
    void classLabelsAreNonNegativeAndStack() {
        refused("class_labels[1] is -3", () -> ClassLabels.of(2, -3));
        refused("class_labels is empty", () -> ClassLabels.of());
        ClassLabels a = ClassLabels.of(1, 2);
        long[] given = {7};
        ClassLabels b = ClassLabels.of(given);
        given[0] = 9; // copied, not shared
        Conditioning both = a.concat(b);
        assertEquals(ClassLabels.of(1, 2, 7), both);
        assertEquals(3, both.rows());
        assertEquals(ClassLabels.of(1, 2, 7, 1, 2), Conditioning.concat(List.of(a, b, a)));
        LatentSize wide = LatentSize.image(8, 12);
        assertEquals(Optional.of(wide), a.at(wide).concat(b.at(wide)).size());
        refused("one batch has one latent size", () -> a.at(wide).concat(b));
    }

    @Test
    void textEmbeddingsCheckEveryField() {
        try (PointerScope scope = new PointerScope()) {
            Tensor states = zeros(ScalarType.Float, 2, 5, 8);
            refused("encoder_hidden_states has shape [2, 8]", () -> TextEmbeddings.of(zeros(ScalarType.Float, 2, 8)));
            refused("encoder_hidden_states has shape [2, 0, 8]",
                    () -> TextEmbeddings.of(zeros(ScalarType.Float, 2, 0, 8)));
            refused("encoder_hidden_states has dtype Long", () -> TextEmbeddings.of(zeros(ScalarType.Long, 2, 5, 8)));
            refused("encoder_attention_mask has shape [2, 4]", () -> new TextEmbeddings(states,
                    Optional.of(zeros(ScalarType.Bool, 2, 4)), Optional.empty(), Optional.empty()));
            refused("encoder_attention_mask has dtype Float", () -> new TextEmbeddings(states,
                    Optional.of(zeros(ScalarType.Float, 2, 5)), Optional.empty(), Optional.empty()));
            refused("pooled_projections has shape [3, 16]", () -> new TextEmbeddings(states, Optional.empty(),
                    Optional.of(zeros(ScalarType.Float, 3, 16)), Optional.empty()));
            refused("pooled_projections has dtype Int", () -> new TextEmbeddings(states, Optional.empty(),
                    Optional.of(zeros(ScalarType.Int, 2, 16)), Optional.empty()));
            TextEmbeddings ok = new TextEmbeddings(states, Optional.of(zeros(ScalarType.Long, 2, 5)),
                    Optional.of(zeros(ScalarType.Half, 2, 16)), Optional.of(new LatentSize(13, 60, 90)));
            assertEquals(2, ok.rows());
            assertEquals(5, ok.tokens());
            assertEquals(8, ok.width());
        }
    }

    @Test
    void textEmbeddingsStackWhenTheyFit() {
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings a = new TextEmbeddings(torch.ones(new long[] {1, 3, 4}, new TensorOptions(ScalarType.Float)),
                    Optional.of(zeros(ScalarType.Bool, 1, 3)), Optional.of(zeros(ScalarType.Float, 1, 6)),
                    Optional.empty());
            TextEmbeddings b = new TextEmbeddings(zeros(ScalarType.Float, 2, 3, 4),
                    Optional.of(zeros(ScalarType.Bool, 2, 3)), Optional.of(zeros(ScalarType.Float, 2, 6)),
                    Optional.empty());
            TextEmbeddings ab = (TextEmbeddings) a.concat(b);
            assertEquals(3, ab.rows());
            assertArrayEquals(new long[] {3, 3}, Tensors.shape(ab.mask().get()));
            assertArrayEquals(new long[] {3, 6}, Tensors.shape(ab.pooled().get()));
            float[] v = Tensors.toFloats(ab.hiddenStates());
            assertEquals(1f, v[0]);
            assertEquals(0f, v[12]);
            refused("4 tokens", () -> a.concat(TextEmbeddings.of(zeros(ScalarType.Float, 1, 4, 4))));
            refused("encoder_attention_mask is given for one part",
                    () -> a.concat(new TextEmbeddings(zeros(ScalarType.Float, 1, 3, 4), Optional.empty(),
                            a.pooled(), Optional.empty())));
            refused("pooled_projections differ", () -> a.concat(new TextEmbeddings(zeros(ScalarType.Float, 1, 3, 4),
                    a.mask(), Optional.empty(), Optional.empty())));
            refused("cannot stack text embeddings with ClassLabels", () -> a.concat(ClassLabels.of(1)));
            refused("cannot stack class labels with TextEmbeddings", () -> ClassLabels.of(1).concat(a));
        }
    }

    @Test
    void aConditionIsOneSample() {
        assertEquals(ClassLabels.of(4), new Condition(4, 9).conditioning());
        refused("class label must be >= 0, got -1", () -> new Condition(-1, 0));
        refused("conditioning of 2 rows", () -> new Condition(ClassLabels.of(1, 2), 0));
    }
}
