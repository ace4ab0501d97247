package io.ditcache.model.text;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * What a text encoder returns, float32 whatever the compute type, under transformers' output names.
 *
 * @param lastHiddenState         {@code last_hidden_state [N, L, D]}, after the final norm
 * @param hiddenStatesPenultimate {@code hidden_states[-2] [N, L, D]}: the input of the last layer, not normed
 *                                (what SD3 takes from its CLIP encoders); null for T5
 * @param poolerOutput            {@code pooler_output [N, D]}: CLIP's last hidden state at the first end-of-text
 *                                token (what FLUX takes); null for T5
 * @param textEmbeds              {@code text_embeds [N, projection_dim]}: the pooled output projected (a projecting
 *                                CLIP; SD3's pooled embeddings); null otherwise
 */
public record TextEncoderOutput(Tensor lastHiddenState, Tensor hiddenStatesPenultimate, Tensor poolerOutput,
        Tensor textEmbeds) {
    /** Name of {@link #lastHiddenState()}. */
    public static final String LAST_HIDDEN_STATE = "last_hidden_state";
    /** Name of {@link #hiddenStatesPenultimate()}. */
    public static final String HIDDEN_STATES_PENULTIMATE = "hidden_states_penultimate";
    /** Name of {@link #poolerOutput()}. */
    public static final String POOLER_OUTPUT = "pooler_output";
    /** Name of {@link #textEmbeds()}. */
    public static final String TEXT_EMBEDS = "text_embeds";

    public TextEncoderOutput {
        Objects.requireNonNull(lastHiddenState, "lastHiddenState");
    }

    /** The outputs present, by name, in the order of the components. */
    public Map<String, Tensor> named() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(LAST_HIDDEN_STATE, lastHiddenState);
        if (textEmbeds != null) {
            out.put(TEXT_EMBEDS, textEmbeds);
        }
        if (hiddenStatesPenultimate != null) {
            out.put(HIDDEN_STATES_PENULTIMATE, hiddenStatesPenultimate);
        }
        if (poolerOutput != null) {
            out.put(POOLER_OUTPUT, poolerOutput);
        }
        return out;
    }
}
