package io.ditcache.model.text;

import static io.ditcache.model.layers.HeaderChecks.agree;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.shape;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Loads and describes the text encoders of diffusion pipelines from transformers' folders ({@code config.json}
 * and {@code model.safetensors}, or shards with {@code model.safetensors.index.json}): {@code CLIPTextModel},
 * {@code CLIPTextModelWithProjection} and {@code T5EncoderModel}, chosen by the config's {@code architectures}
 * (or, without it, {@code model_type}: {@code clip_text_model}, {@code t5}).
 *
 * <p>As the denoisers load: the configuration is checked, then each of its sizes against the weights' header and
 * the model's size against memory, then every weight (missing, unexpected, shape, dtype), before a module is built
 * and the weights are copied in, one tensor at a time, in the compute type.
 */
public final class TextEncoders {
    /** The classes loaded, by transformers' name. */
    public static final Set<String> CLASS_NAMES = Set.of(ClipTextConfig.CLIP_TEXT_MODEL,
            ClipTextConfig.CLIP_TEXT_MODEL_WITH_PROJECTION, T5EncoderConfig.CLASS_NAME);
    private static final String CLIP_LAYERS = "text_model.encoder.layers.";
    private static final String CLIP_TOKENS = "text_model.embeddings.token_embedding.weight";
    private static final String CLIP_POSITIONS = "text_model.embeddings.position_embedding.weight";
    private static final String CLIP_POSITION_IDS = "text_model.embeddings.position_ids";
    private static final String CLIP_FC1 = CLIP_LAYERS + "0.mlp.fc1.weight";
    private static final String CLIP_PROJECTION = "text_projection.weight";
    private static final String T5_BLOCKS = "encoder.block.";
    private static final String T5_SHARED = "shared.weight";
    private static final String T5_EMBED = "encoder.embed_tokens.weight";
    private static final String T5_Q = T5_BLOCKS + "0.layer.0.SelfAttention.q.weight";
    private static final String T5_BIAS = T5_BLOCKS + "0.layer.0.SelfAttention.relative_attention_bias.weight";
    private static final String T5_WI = T5_BLOCKS + "0.layer.1.DenseReluDense.wi.weight";
    private static final String T5_WI0 = T5_BLOCKS + "0.layer.1.DenseReluDense.wi_0.weight";

    /** The most layers a config may name: the published encoders have 12 to 32 (T5-XXL 24, OpenCLIP bigG 32). */
    static final int MAX_LAYERS = 1000;

    private TextEncoders() {
    }

    /**
     * Whether {@code config} is a text encoder's (transformers' {@code config.json} of a class this loads); what
     * the commands ask before treating a folder as one.
     */
    public static boolean isTextEncoder(DiffusersConfig config) {
        return config.isTransformers() && (CLASS_NAMES.contains(config.className())
                || config.className().equals(ClipTextConfig.MODEL_TYPE)
                || config.className().equals(T5EncoderConfig.MODEL_TYPE));
    }

    /**
     * Whether {@code dir} holds a text encoder's {@code config.json}; false where there is none or it cannot be
     * read (the caller's own loading then reports why).
     */
    public static boolean isTextEncoder(Path dir) {
        Path file = dir.resolve(Checkpoint.CONFIG);
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try {
            return isTextEncoder(DiffusersConfig.read(file));
        } catch (IOException e) {
            return false;
        }
    }

    /** Loads the text encoder in {@code dir} with its weights in, and computing with, {@code type}. */
    public static TextEncoder load(Path dir, ComputeType type) throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            return load(ckpt, MemoryBudget.ofThisMachine(), type);
        }
    }

    /**
     * Loads the text encoder of an open checkpoint; see the class comment for what is checked first.
     *
     * @throws CheckpointException naming the file, the key, the value and what was expected
     */
    public static TextEncoder load(Checkpoint ckpt, MemoryBudget budget, ComputeType type) throws IOException {
        DiffusersConfig c = ckpt.config();
        String prefix = c.source() + ": ";
        if (isClip(c)) {
            boolean projection = withProjection(c, ckpt);
            ClipTextConfig clip = ClipTextConfig.of(c, projection);
            checkClip(clip, prefix, ckpt);
            Map<String, long[]> shapes = clip.parameterShapes();
            checkMemory(clip.className(), shapes, prefix, budget, type);
            Map<String, String> stored = identity(shapes);
            Set<String> skipped = projection ? Set.of(CLIP_POSITION_IDS) : Set.of(CLIP_POSITION_IDS, CLIP_PROJECTION);
            TextWeights.check(shapes, stored, skipped, ckpt, clip.className());
            ClipTextModel model = Weights.build(type.scalarType(), () -> new ClipTextModel(clip, type));
            TextWeights.copy(model, shapes, stored, ckpt, clip.className());
            return model;
        }
        T5EncoderConfig t5 = t5(c);
        String sharedKey = !ckpt.contains(T5_SHARED) && ckpt.contains(T5_EMBED) ? T5_EMBED : T5_SHARED;
        checkT5(t5, prefix, ckpt, sharedKey);
        Map<String, long[]> shapes = t5.parameterShapes();
        Map<String, String> stored = identity(shapes);
        stored.put(T5_SHARED, sharedKey);
        // where both are stored, encoder.embed_tokens is the tied copy and shared.weight is read
        Set<String> skipped = sharedKey.equals(T5_SHARED) && ckpt.contains(T5_EMBED) ? Set.of(T5_EMBED) : Set.of();
        checkMemory(T5EncoderConfig.CLASS_NAME, shapes, prefix, budget, type);
        TextWeights.check(shapes, stored, skipped, ckpt, T5EncoderConfig.CLASS_NAME);
        T5Encoder model = Weights.build(type.scalarType(), () -> new T5Encoder(t5, type));
        TextWeights.copy(model, shapes, stored, ckpt, T5EncoderConfig.CLASS_NAME);
        return model;
    }

    /**
     * The text encoder {@code config} defines, without allocating a weight: its class and parameter shapes. A
     * CLIP config named only by {@code model_type} is described as {@code CLIPTextModel}.
     *
     * @throws CheckpointException for a class this does not load, or naming the config file, the key, the value
     *                             and what was expected
     */
    public static TextEncoderDescription describe(DiffusersConfig config) throws CheckpointException {
        TextEncoderDescription d;
        if (isClip(config)) {
            ClipTextConfig clip = ClipTextConfig.of(config,
                    config.className().equals(ClipTextConfig.CLIP_TEXT_MODEL_WITH_PROJECTION));
            d = new TextEncoderDescription(clip.className(), clip.parameterShapes());
        } else {
            d = new TextEncoderDescription(T5EncoderConfig.CLASS_NAME, t5(config).parameterShapes());
        }
        try {
            d.parameterCount();
        } catch (ArithmeticException e) {
            throw new CheckpointException(config.source() + ": " + d.className() + " of these sizes has more "
                    + "parameters than a long counts, expected a model that fits in memory", e);
        }
        return d;
    }

    /** Refuses a layer count beyond {@link #MAX_LAYERS}, before a map of its parameters is made. */
    static void checkLayers(String key, int layers) {
        if (layers > MAX_LAYERS) {
            throw new IllegalArgumentException(key + " is " + layers + ", expected at most " + MAX_LAYERS);
        }
    }

    /** Elements of all the shapes. */
    static long count(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) {
            n = Math.addExact(n, Arrays.stream(s).reduce(1, Math::multiplyExact));
        }
        return n;
    }

    private static boolean isClip(DiffusersConfig c) throws CheckpointException {
        if (!isTextEncoder(c)) {
            throw new CheckpointException(c.source() + ": " + (c.isTransformers() ? "class \"" + c.className()
                    + "\" is not a text encoder this loads" : "a diffusers config (" + c.className() + "), not a "
                    + "transformers text encoder's") + ", expected architectures one of " + new java.util.TreeSet<>(
                    CLASS_NAMES) + " (or model_type clip_text_model or t5)");
        }
        boolean clip = c.className().startsWith("CLIP") || c.className().equals(ClipTextConfig.MODEL_TYPE);
        String modelType = c.stringValue("model_type", clip ? ClipTextConfig.MODEL_TYPE : T5EncoderConfig.MODEL_TYPE);
        if (!modelType.equals(clip ? ClipTextConfig.MODEL_TYPE : T5EncoderConfig.MODEL_TYPE)) {
            throw new CheckpointException(c.source() + ": model_type is \"" + modelType + "\", but architectures "
                    + "names " + c.className() + ", expected model_type \"" + (clip ? ClipTextConfig.MODEL_TYPE
                    : T5EncoderConfig.MODEL_TYPE) + "\"");
        }
        return clip;
    }

    private static T5EncoderConfig t5(DiffusersConfig c) throws CheckpointException {
        if (c.boolValue("is_decoder", false)) {
            throw new CheckpointException(c.source() + ": is_decoder is true, expected an encoder ("
                    + T5EncoderConfig.CLASS_NAME + ")");
        }
        return T5EncoderConfig.of(c);
    }

    /** The class of a CLIP checkpoint: as architectures names it, or with model_type alone, by its weights. */
    private static boolean withProjection(DiffusersConfig c, Checkpoint ckpt) throws CheckpointException {
        if (c.className().equals(ClipTextConfig.MODEL_TYPE)) {
            return ckpt.contains(CLIP_PROJECTION);
        }
        boolean projection = c.className().equals(ClipTextConfig.CLIP_TEXT_MODEL_WITH_PROJECTION);
        if (projection && !ckpt.contains(CLIP_PROJECTION)) {
            throw new CheckpointException(c.source() + ": architectures names " + c.className() + ", but "
                    + ckpt.source() + " has no tensor " + CLIP_PROJECTION + " (a CLIPTextModel's weights?)");
        }
        return projection;
    }

    private static void checkClip(ClipTextConfig c, String prefix, Checkpoint ckpt) throws CheckpointException {
        blockCount(prefix, "num_hidden_layers", c.numLayers(), CLIP_LAYERS, ckpt);
        long v = c.vocabSize();
        long d = c.hiddenSize();
        long[] tokens = shape(ckpt, CLIP_TOKENS, 2);
        if (tokens != null) {
            long[] implied = {v, d};
            agree(tokens[1] == d, prefix, "hidden_size is " + d, ckpt, CLIP_TOKENS, tokens, "width " + tokens[1],
                    implied);
            agree(tokens[0] == v, prefix, "vocab_size is " + v, ckpt, CLIP_TOKENS, tokens, "a vocabulary of "
                    + tokens[0], implied);
        }
        long[] positions = shape(ckpt, CLIP_POSITIONS, 2);
        if (positions != null) {
            agree(positions[0] == c.maxPositions(), prefix, "max_position_embeddings is " + c.maxPositions(), ckpt,
                    CLIP_POSITIONS, positions, positions[0] + " positions", new long[] {c.maxPositions(), d});
        }
        long[] fc1 = shape(ckpt, CLIP_FC1, 2);
        if (fc1 != null) {
            agree(fc1[0] == c.intermediateSize(), prefix, "intermediate_size is " + c.intermediateSize(), ckpt,
                    CLIP_FC1, fc1, "an MLP " + fc1[0] + " wide", new long[] {c.intermediateSize(), d});
        }
        long[] proj = c.withProjection() ? shape(ckpt, CLIP_PROJECTION, 2) : null;
        if (proj != null) {
            agree(proj[0] == c.projectionDim(), prefix, "projection_dim is " + c.projectionDim(), ckpt,
                    CLIP_PROJECTION, proj, "a projection to " + proj[0], new long[] {c.projectionDim(), d});
        }
    }

    private static void checkT5(T5EncoderConfig c, String prefix, Checkpoint ckpt, String sharedKey)
            throws CheckpointException {
        blockCount(prefix, "num_layers", c.numLayers(), T5_BLOCKS, ckpt);
        long v = c.vocabSize();
        long d = c.dModel();
        long[] shared = shape(ckpt, sharedKey, 2);
        if (shared != null) {
            long[] implied = {v, d};
            agree(shared[1] == d, prefix, "d_model is " + d, ckpt, sharedKey, shared, "width " + shared[1], implied);
            agree(shared[0] == v, prefix, "vocab_size is " + v, ckpt, sharedKey, shared, "a vocabulary of "
                    + shared[0], implied);
        }
        long[] q = shape(ckpt, T5_Q, 2);
        if (q != null) {
            agree(q[0] == c.innerDim(), prefix, "num_heads " + c.numHeads() + " x d_kv " + c.dKv() + " = "
                    + c.innerDim(), ckpt, T5_Q, q, "inner dim " + q[0], new long[] {c.innerDim(), d});
        }
        long[] bias = shape(ckpt, T5_BIAS, 2);
        if (bias != null) {
            long[] implied = {c.buckets(), c.numHeads()};
            agree(bias[0] == c.buckets(), prefix, "relative_attention_num_buckets is " + c.buckets(), ckpt, T5_BIAS,
                    bias, bias[0] + " buckets", implied);
            agree(bias[1] == c.numHeads(), prefix, "num_heads is " + c.numHeads(), ckpt, T5_BIAS, bias, bias[1]
                    + " heads", implied);
        }
        if (ckpt.contains(T5_Q) && ckpt.contains(T5_WI0) != c.gated()) {
            throw new CheckpointException(prefix + "feed_forward_proj is " + (c.gated() ? "gated" : "not gated")
                    + ", but " + ckpt.source() + " has " + (ckpt.contains(T5_WI0) ? "tensor " + T5_WI0
                    : "no tensor " + T5_WI0 + (ckpt.contains(T5_WI) ? " (it has " + T5_WI + ")" : "")));
        }
        String wi = c.gated() ? T5_WI0 : T5_WI;
        long[] ff = shape(ckpt, wi, 2);
        if (ff != null) {
            agree(ff[0] == c.dFf(), prefix, "d_ff is " + c.dFf(), ckpt, wi, ff, "a feed-forward " + ff[0] + " wide",
                    new long[] {c.dFf(), d});
        }
    }

    private static void checkMemory(String className, Map<String, long[]> shapes, String prefix,
            MemoryBudget budget, ComputeType type) throws CheckpointException {
        long parameters;
        try {
            parameters = count(shapes);
        } catch (ArithmeticException e) {
            parameters = -1; // more than a long: MemoryBudget reports it as such
        }
        int bytesPer = type == ComputeType.FLOAT32 ? Float.BYTES : Short.BYTES;
        long bytes = MemoryBudget.times(parameters, bytesPer);
        String shortfall = budget.shortfall(0, bytes);
        if (shortfall != null) {
            throw new CheckpointException(prefix + className + " of " + (parameters < 0 ? "more than "
                    + Long.MAX_VALUE : parameters) + " parameters is "
                    + MemoryBudget.bytes(bytes) + " of " + type.label() + " weights: loading " + shortfall);
        }
    }

    private static Map<String, String> identity(Map<String, long[]> shapes) {
        Map<String, String> out = new LinkedHashMap<>();
        shapes.keySet().forEach(k -> out.put(k, k));
        return out;
    }
}
