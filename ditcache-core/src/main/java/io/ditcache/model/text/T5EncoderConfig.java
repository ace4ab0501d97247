package io.ditcache.model.text;

import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The encoder of T5 as transformers' {@code T5Config} defines it, built as {@code T5EncoderModel}: v1.1 (the
 * encoder of FLUX, SD3, PixArt, CogVideoX and Mochi) with a gated-GELU feed-forward, or v1.0 with ReLU.
 *
 * @param vocabSize   {@code vocab_size} (rows of {@code shared})
 * @param dModel      {@code d_model}
 * @param dKv         {@code d_kv}: size of one head; {@code num_heads * d_kv} may differ from {@code d_model}
 * @param dFf         {@code d_ff}
 * @param numLayers   {@code num_layers}
 * @param numHeads    {@code num_heads}
 * @param buckets     {@code relative_attention_num_buckets}
 * @param maxDistance {@code relative_attention_max_distance}
 * @param eps         {@code layer_norm_epsilon}
 * @param gated       whether the feed-forward is gated ({@code wi_0}, {@code wi_1}) or not ({@code wi})
 * @param activation  the feed-forward's activation: gelu_new (tanh GELU, v1.1), relu (v1.0), gelu
 */
public record T5EncoderConfig(int vocabSize, int dModel, int dKv, int dFf, int numLayers, int numHeads,
        int buckets, int maxDistance, double eps, boolean gated, String activation) {
    /** transformers' class. */
    public static final String CLASS_NAME = "T5EncoderModel";
    /** The {@code model_type} of a T5 config. */
    static final String MODEL_TYPE = "t5";

    public T5EncoderConfig {
        positive("vocab_size", vocabSize);
        positive("d_model", dModel);
        positive("d_kv", dKv);
        positive("d_ff", dFf);
        positive("num_layers", numLayers);
        TextEncoders.checkLayers("num_layers", numLayers);
        positive("num_heads", numHeads);
        positive("relative_attention_num_buckets", buckets);
        positive("relative_attention_max_distance", maxDistance);
        if (buckets < 4) {
            throw new IllegalArgumentException("relative_attention_num_buckets is " + buckets + ", expected at "
                    + "least 4 (half for each direction, half of those exact)");
        }
        TextActivations.check("feed_forward_proj", activation);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("layer_norm_epsilon is " + eps + ", expected a positive number");
        }
    }

    /**
     * The configuration in a transformers {@code config.json}, with transformers' defaults for absent keys;
     * {@code feed_forward_proj} is read as transformers does ({@code gated-gelu} means gated {@code gelu_new}).
     *
     * @throws CheckpointException naming the file, the key, the value and what was expected
     */
    static T5EncoderConfig of(DiffusersConfig c) throws CheckpointException {
        String proj = c.stringValue("feed_forward_proj", "relu");
        String[] parts = proj.split("-");
        boolean gated = parts.length == 2 && parts[0].equals("gated");
        if (!(parts.length == 1 || gated)) {
            throw new CheckpointException(c.source() + ": feed_forward_proj is \"" + proj + "\", expected "
                    + "ACT or gated-ACT, for example gated-gelu or relu");
        }
        String act = parts[parts.length - 1];
        if (proj.equals("gated-gelu")) {
            act = "gelu_new"; // transformers' reading: T5 v1.1's GELU is the tanh approximation
        }
        try {
            return new T5EncoderConfig(c.intValue("vocab_size", 32128), c.intValue("d_model", 512),
                    c.intValue("d_kv", 64), c.intValue("d_ff", 2048), c.intValue("num_layers", 6),
                    c.intValue("num_heads", 8), c.intValue("relative_attention_num_buckets", 32),
                    c.intValue("relative_attention_max_distance", 128), c.doubleValue("layer_norm_epsilon", 1e-6),
                    gated, act);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source() + ": " + e.getMessage(), e);
        }
    }

    /** {@code num_heads * d_kv}: the width of q, k and v. */
    public long innerDim() {
        return (long) numHeads * dKv;
    }

    /**
     * Every parameter by transformers' key, in transformers' registration order, with its shape. The encoder's
     * {@code encoder.embed_tokens} is {@code shared} (tied) and counted once, as transformers does.
     */
    public Map<String, long[]> parameterShapes() {
        long d = dModel;
        long inner = innerDim();
        long f = dFf;
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("shared.weight", new long[] {vocabSize, d});
        for (int i = 0; i < numLayers; i++) {
            String b = "encoder.block." + i + ".layer.";
            for (String p : new String[] {"q", "k", "v"}) {
                out.put(b + "0.SelfAttention." + p + ".weight", new long[] {inner, d});
            }
            out.put(b + "0.SelfAttention.o.weight", new long[] {d, inner});
            if (i == 0) {
                out.put(b + "0.SelfAttention.relative_attention_bias.weight", new long[] {buckets, numHeads});
            }
            out.put(b + "0.layer_norm.weight", new long[] {d});
            if (gated) {
                out.put(b + "1.DenseReluDense.wi_0.weight", new long[] {f, d});
                out.put(b + "1.DenseReluDense.wi_1.weight", new long[] {f, d});
            } else {
                out.put(b + "1.DenseReluDense.wi.weight", new long[] {f, d});
            }
            out.put(b + "1.DenseReluDense.wo.weight", new long[] {d, f});
            out.put(b + "1.layer_norm.weight", new long[] {d});
        }
        out.put("encoder.final_layer_norm.weight", new long[] {d});
        return out;
    }

    private static void positive(String key, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(key + " is " + v + ", expected a positive integer");
        }
    }
}
