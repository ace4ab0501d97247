package io.ditcache.model.text;

import io.ditcache.model.ComputeType;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A text encoder of a diffusion pipeline over libtorch, with transformers' state-dict keys: CLIP's text tower
 * ({@link ClipTextModel}) or T5's encoder ({@link T5Encoder}). Load one with {@link TextEncoders#load}.
 *
 * <p>Not thread-safe; one forward at a time. Callers own the native memory of inputs and outputs (wrap calls in a
 * {@code PointerScope}).
 */
public sealed interface TextEncoder permits ClipTextModel, T5Encoder {
    /** transformers' class, e.g. {@code CLIPTextModelWithProjection}. */
    String className();

    /** Rows of the token embedding: every input id must be below it. */
    int vocabSize();

    /** The longest input the encoder takes (CLIP's {@code max_position_embeddings}), or 0 for no limit (T5). */
    int maxLength();

    /** The dtype the weights are held in and the layers compute with. */
    ComputeType computeType();

    /** Number of parameters. */
    long parameterCount();

    /** Parameters by transformers' key: the module's own tensors (not copies). */
    Map<String, Tensor> stateDict();

    /**
     * Encodes token ids.
     *
     * @param inputIds      {@code input_ids [N, L]}, an integer dtype, each in {@code [0, vocab_size)}
     * @param attentionMask {@code attention_mask [N, L]} (1 = attend, 0 = padding), or null to attend to every
     *                      token, as the FLUX and SD3 pipelines run both CLIP and T5
     * @return float32 outputs
     * @throws IllegalArgumentException for ids out of range, a length beyond {@link #maxLength()}, or shapes that
     *                                  differ
     */
    TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask);
}
