package io.ditcache.model.text;

import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The text tower of CLIP as transformers' {@code CLIPTextConfig} defines it: {@code CLIPTextModel}, or with
 * {@code text_projection} {@code CLIPTextModelWithProjection} (SD3's two CLIP encoders).
 *
 * @param withProjection    whether {@code text_projection} (no bias) maps the pooled output to {@code text_embeds}
 * @param vocabSize         {@code vocab_size}
 * @param hiddenSize        {@code hidden_size}
 * @param intermediateSize  {@code intermediate_size}
 * @param numLayers         {@code num_hidden_layers}
 * @param numHeads          {@code num_attention_heads}; divides {@code hidden_size}
 * @param maxPositions      {@code max_position_embeddings} (77): the longest input
 * @param projectionDim     {@code projection_dim} (used only with the projection)
 * @param activation        {@code hidden_act}: quick_gelu (CLIP-L), gelu (OpenCLIP bigG), gelu_new
 * @param eps               {@code layer_norm_eps}
 * @param eosTokenId        {@code eos_token_id}; 2 (the published CLIP configs) pools at the highest id instead
 */
public record ClipTextConfig(boolean withProjection, int vocabSize, int hiddenSize, int intermediateSize,
        int numLayers, int numHeads, int maxPositions, int projectionDim, String activation, double eps,
        int eosTokenId) {
    /** transformers' class without the projection. */
    public static final String CLIP_TEXT_MODEL = "CLIPTextModel";
    /** transformers' class with the projection. */
    public static final String CLIP_TEXT_MODEL_WITH_PROJECTION = "CLIPTextModelWithProjection";
    /** The {@code model_type} of a CLIP text config. */
    static final String MODEL_TYPE = "clip_text_model";
    /** The {@code eos_token_id} of configs written before transformers pooled at the end-of-text id. */
    static final int LEGACY_EOS_TOKEN_ID = 2;

    public ClipTextConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        TextEncoders.checkLayers("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("max_position_embeddings", maxPositions);
        if (withProjection) {
            positive("projection_dim", projectionDim);
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of "
                    + "num_attention_heads " + numHeads);
        }
        TextActivations.check("hidden_act", activation);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("layer_norm_eps is " + eps + ", expected a positive number");
        }
    }

    /**
     * The configuration in a transformers {@code config.json}, with transformers' defaults for absent keys.
     *
     * @param withProjection the class: {@code CLIPTextModelWithProjection} or {@code CLIPTextModel}
     * @throws CheckpointException naming the file, the key, the value and what was expected
     */
    static ClipTextConfig of(DiffusersConfig c, boolean withProjection) throws CheckpointException {
        try {
            return new ClipTextConfig(withProjection, c.intValue("vocab_size", 49408), c.intValue("hidden_size", 512),
                    c.intValue("intermediate_size", 2048), c.intValue("num_hidden_layers", 12),
                    c.intValue("num_attention_heads", 8), c.intValue("max_position_embeddings", 77),
                    c.intValue("projection_dim", 512), c.stringValue("hidden_act", "quick_gelu"),
                    c.doubleValue("layer_norm_eps", 1e-5), c.intValue("eos_token_id", 49407));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }

    /** transformers' class name. */
    public String className() {
        return withProjection ? CLIP_TEXT_MODEL_WITH_PROJECTION : CLIP_TEXT_MODEL;
    }

    /** Size of one attention head. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Every parameter by transformers' key, in transformers' registration order, with its shape. */
    public Map<String, long[]> parameterShapes() {
        long d = hiddenSize;
        long f = intermediateSize;
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("text_model.embeddings.token_embedding.weight", new long[] {vocabSize, d});
        out.put("text_model.embeddings.position_embedding.weight", new long[] {maxPositions, d});
        for (int i = 0; i < numLayers; i++) {
            String l = "text_model.encoder.layers." + i + ".";
            for (String p : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                out.put(l + "self_attn." + p + ".weight", new long[] {d, d});
                out.put(l + "self_attn." + p + ".bias", new long[] {d});
            }
            out.put(l + "layer_norm1.weight", new long[] {d});
            out.put(l + "layer_norm1.bias", new long[] {d});
            out.put(l + "mlp.fc1.weight", new long[] {f, d});
            out.put(l + "mlp.fc1.bias", new long[] {f});
            out.put(l + "mlp.fc2.weight", new long[] {d, f});
            out.put(l + "mlp.fc2.bias", new long[] {d});
            out.put(l + "layer_norm2.weight", new long[] {d});
            out.put(l + "layer_norm2.bias", new long[] {d});
        }
        out.put("text_model.final_layer_norm.weight", new long[] {d});
        out.put("text_model.final_layer_norm.bias", new long[] {d});
        if (withProjection) {
            out.put("text_projection.weight", new long[] {projectionDim, d});
        }
        return out;
    }

    private static void positive(String key, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(key + " is " + v + ", expected a positive integer");
        }
    }
}
