package io.ditcache.model.text;

import io.ditcache.internal.Tensors;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * Prompts as token ids, padded to one length as the pipelines pad them.
 *
 * @param rows      number of prompts
 * @param length    tokens per row, padding included
 * @param ids       {@code rows * length} ids, row after row
 * @param mask      {@code rows * length} attention-mask values (1 = token, 0 = padding)
 * @param masked    whether any pipeline uses the mask ({@link PromptTokenizer#pipelineMasks()}: T5 yes, CLIP no)
 * @param truncated the prompts that were longer than {@code length} and cut, in order
 */
public record TokenizedPrompts(int rows, int length, long[] ids, long[] mask, boolean masked,
        List<Truncation> truncated) {
    /**
     * A prompt cut to the maximum length.
     *
     * @param index  0-based position among the prompts
     * @param tokens its length untruncated, special tokens included
     */
    public record Truncation(int index, int tokens) {
    }

    public TokenizedPrompts {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(mask, "mask");
        if (ids.length != (long) rows * length || mask.length != ids.length) {
            throw new IllegalArgumentException(ids.length + " ids and " + mask.length + " mask values for " + rows
                    + " rows of " + length);
        }
        truncated = List.copyOf(truncated);
    }

    /** {@code input_ids [rows, length]} int64, a new tensor. */
    public Tensor inputIds() {
        return Tensors.fromLongs(ids, rows, length);
    }

    /** {@code attention_mask [rows, length]} int64, a new tensor. */
    public Tensor attentionMask() {
        return Tensors.fromLongs(mask, rows, length);
    }

    /** Row {@code i}'s ids. */
    public long[] row(int i) {
        Objects.checkIndex(i, rows);
        long[] out = new long[length];
        System.arraycopy(ids, i * length, out, 0, length);
        return out;
    }
}
