package io.ditcache.model.text;

import io.ditcache.internal.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** The checks of a text encoder's inputs, and the attention masks both encoders build from them. */
final class TokenIds {
    private TokenIds() {
    }

    /**
     * {@code inputIds} as int64, once its shape, dtype and every id are checked, and {@code attentionMask}'s shape.
     *
     * @param maxLength the longest input, or 0 for no limit
     * @throws IllegalArgumentException naming the model, the value and what was expected
     */
    static Tensor check(Tensor inputIds, Tensor attentionMask, int vocabSize, int maxLength, String model) {
        if (inputIds.dim() != 2 || inputIds.size(0) < 1 || inputIds.size(1) < 1) {
            throw new IllegalArgumentException(model + ": input_ids has shape " + Tensors.shapeString(inputIds)
                    + ", expected [N, L] with N, L >= 1");
        }
        ScalarType t = inputIds.scalar_type().intern();
        if (t != ScalarType.Long && t != ScalarType.Int && t != ScalarType.Short && t != ScalarType.Byte
                && t != ScalarType.Char) {
            throw new IllegalArgumentException(model + ": input_ids has dtype " + t + ", expected an integer dtype "
                    + "(int64 as the tokenizers write them)");
        }
        if (maxLength > 0 && inputIds.size(1) > maxLength) {
            throw new IllegalArgumentException(model + ": input_ids has " + inputIds.size(1) + " tokens per row, more "
                    + "than the " + maxLength + " (max_position_embeddings) the model takes");
        }
        Tensor ids = inputIds.to(ScalarType.Long);
        long min = ids.min().item_long();
        long max = ids.max().item_long();
        if (min < 0 || max >= vocabSize) {
            throw new IllegalArgumentException(model + ": input_ids holds id " + (min < 0 ? min : max) + ", expected "
                    + "ids from 0 to vocab_size - 1 = " + (vocabSize - 1) + " (a tokenizer of another model?)");
        }
        if (attentionMask != null && (attentionMask.dim() != 2 || attentionMask.size(0) != ids.size(0)
                || attentionMask.size(1) != ids.size(1))) {
            throw new IllegalArgumentException(model + ": attention_mask has shape "
                    + Tensors.shapeString(attentionMask) + ", expected input_ids' " + Tensors.shapeString(ids));
        }
        return ids;
    }

    /**
     * An additive mask {@code [N or 1, 1, L, L]} in {@code type}: 0 where a query attends to a key, the dtype's
     * lowest value elsewhere (as transformers masks, so that no row is all {@code -inf}); null when nothing is
     * masked.
     *
     * @param attentionMask {@code [N, L]} (nonzero = attend), or null
     * @param causal        whether each position attends only to itself and earlier ones
     */
    static Tensor additiveMask(Tensor attentionMask, long len, boolean causal, ScalarType type) {
        if (attentionMask == null && !causal) {
            return null;
        }
        Tensor allowed = null;
        if (causal) {
            allowed = torch.ones(new long[] {len, len}, new TensorOptions(ScalarType.Bool)).tril().view(1, 1, len, len);
        }
        if (attentionMask != null) {
            Tensor keys = attentionMask.ne(new Scalar(0L)).view(attentionMask.size(0), 1, 1, len);
            allowed = allowed == null ? keys.expand(attentionMask.size(0), 1, len, len) : allowed.logical_and(keys);
        }
        Tensor zeros = torch.zeros(new long[] {allowed.size(0), 1, len, len}, new TensorOptions(type));
        return zeros.masked_fill(allowed.logical_not(), new Scalar(lowest(type)));
    }

    /** The lowest finite value of a float dtype ({@code torch.finfo(type).min}). */
    static double lowest(ScalarType type) {
        return switch (type) {
            case Half -> -65504.0;
            case BFloat16 -> -3.3895313892515355e38;
            default -> -Float.MAX_VALUE;
        };
    }
}
