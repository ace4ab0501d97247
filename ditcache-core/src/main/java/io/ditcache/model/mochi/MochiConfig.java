package io.ditcache.model.mochi;

import static io.ditcache.model.layers.ShapeArithmetic.linear;
import static io.ditcache.model.layers.ShapeArithmetic.mul;
import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.sum;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Configuration of diffusers' {@code MochiTransformer3DModel} (Mochi 1), under diffusers' names. The video stream
 * has width {@code num_attention_heads x attention_head_dim}; the text stream keeps its own, narrower width
 * {@code pooled_projection_dim} through the blocks (asymmetric joint attention).
 *
 * @param patchSize           patch edge (spatial only; every latent frame is patched on its own)
 * @param numHeads            attention heads
 * @param headDim             channels per head
 * @param numLayers           joint blocks; the last is {@code context_pre_only}
 * @param pooledProjectionDim width of the text stream in the blocks
 * @param inChannels          latent channels
 * @param outChannels         output channels
 * @param textEmbedDim        width of the text encoder's tokens ({@code encoder_hidden_states})
 * @param timeEmbedDim        channels of the sinusoidal timestep features
 * @param maxSequenceLength   the text length the pipeline pads prompts to (recorded, not enforced)
 */
public record MochiConfig(int patchSize, int numHeads, int headDim, int numLayers, int pooledProjectionDim,
        int inChannels, int outChannels, int textEmbedDim, int timeEmbedDim, int maxSequenceLength) {
    /** The diffusers class name of this layout. */
    public static final String CLASS_NAME = "MochiTransformer3DModel";
    /** Heads of the attention pool that turns the text into part of the conditioning vector. */
    static final int POOL_HEADS = 8;
    /** Latent frames MochiPipeline makes by default: {@code (19 - 1) / 6 + 1}. */
    public static final int DEFAULT_FRAMES = 4;
    /** Latent height MochiPipeline makes by default: 480 pixels / 8. */
    public static final int DEFAULT_HEIGHT = 60;
    /** Latent width MochiPipeline makes by default: 848 pixels / 8. */
    public static final int DEFAULT_WIDTH = 106;

    public MochiConfig {
        positive("patch_size", patchSize);
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("num_layers", numLayers);
        positive("pooled_projection_dim", pooledProjectionDim);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("text_embed_dim", textEmbedDim);
        positive("time_embed_dim", timeEmbedDim);
        positive("max_sequence_length", maxSequenceLength);
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("attention_head_dim is " + headDim + ", expected an even number "
                    + "(the rotary embedding turns channel pairs)");
        }
        if (textEmbedDim % POOL_HEADS != 0) {
            throw new IllegalArgumentException("text_embed_dim is " + textEmbedDim + ", expected a multiple of "
                    + POOL_HEADS + " (the heads of the text attention pool)");
        }
        long inner = (long) numHeads * headDim;
        if (inner > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " x attention_head_dim "
                    + headDim + " = " + inner + " is too large an inner dim, expected at most "
                    + Integer.MAX_VALUE / 8);
        }
    }

    /** Video-stream width: heads x head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** SwiGLU hidden width of the video feed-forward, {@code (4 D 2) / 3}. */
    public long ffInnerDim() {
        return (4L * innerDim() * 2) / 3;
    }

    /** SwiGLU hidden width of the text feed-forward, {@code (4 P 2) / 3}. */
    public long ffContextInnerDim() {
        return (4L * pooledProjectionDim * 2) / 3;
    }

    /** Whether block {@code layer} is the last, {@code context_pre_only} one (its text stream is not updated). */
    public boolean contextPreOnly(int layer) {
        return layer == numLayers - 1;
    }

    /**
     * The parameters diffusers' {@code MochiTransformer3DModel} has under this configuration
     * ({@code named_parameters()}), by key in registration order, with their shapes: computed, not built.
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long p = patchSize;
        long e = textEmbedDim;
        Map<String, long[]> out = new LinkedHashMap<>();
        // a module's own parameters come before its children's in named_parameters()
        out.put("pos_frequencies", new long[] {3, numHeads, headDim / 2});
        out.put("patch_embed.proj.weight", new long[] {d, inChannels, p, p});
        out.put("patch_embed.proj.bias", new long[] {d});
        linear(out, "time_embed.timestep_embedder.linear_1", timeEmbedDim, d);
        linear(out, "time_embed.timestep_embedder.linear_2", d, d);
        linear(out, "time_embed.pooler.to_kv", e, 2 * e);
        linear(out, "time_embed.pooler.to_q", e, e);
        linear(out, "time_embed.pooler.to_out", e, d);
        linear(out, "time_embed.caption_proj", e, pooledProjectionDim);
        for (int i = 0; i < numLayers; i++) {
            blockShapes(out, "transformer_blocks." + i + ".", contextPreOnly(i));
        }
        linear(out, "norm_out.linear", d, 2 * d);
        linear(out, "proj_out", d, p * p * outChannels);
        return out;
    }

    /** One MochiTransformerBlock's parameters, in registration order. */
    private void blockShapes(Map<String, long[]> out, String b, boolean last) {
        long d = innerDim();
        long c = pooledProjectionDim;
        linear(out, b + "norm1.linear", d, 4 * d);
        if (last) {
            linear(out, b + "norm1_context.linear_1", d, c);
        } else {
            linear(out, b + "norm1_context.linear", d, 4 * c);
        }
        String a = b + "attn1.";
        for (String norm : new String[] {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) {
            out.put(a + norm + ".weight", new long[] {headDim});
        }
        linear(out, a + "to_q", d, d, false);
        linear(out, a + "to_k", d, d, false);
        linear(out, a + "to_v", d, d, false);
        linear(out, a + "add_k_proj", c, d, false);
        linear(out, a + "add_v_proj", c, d, false);
        linear(out, a + "add_q_proj", c, d, false);
        linear(out, a + "to_out.0", d, d);
        if (!last) {
            linear(out, a + "to_add_out", d, c);
        }
        linear(out, b + "ff.net.0.proj", d, 2 * ffInnerDim(), false);
        linear(out, b + "ff.net.2", ffInnerDim(), d, false);
        if (!last) {
            linear(out, b + "ff_context.net.0.proj", c, 2 * ffContextInnerDim(), false);
            linear(out, b + "ff_context.net.2", ffContextInnerDim(), c, false);
        }
    }

    /**
     * Number of parameters (diffusers' {@code num_parameters()}), by arithmetic, without listing the keys.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long parameterCount() {
        try {
            long d = innerDim();
            long e = textEmbedDim;
            long pp = (long) patchSize * patchSize;
            long fixed = sum(mul(d, inChannels, pp), d, linearCount(timeEmbedDim, d), linearCount(d, d),
                    linearCount(e, 2 * e), linearCount(e, e), linearCount(e, d),
                    linearCount(e, pooledProjectionDim), mul(3, numHeads, headDim / 2), linearCount(d, 2 * d),
                    linearCount(d, pp * outChannels));
            return sum(fixed, mul(numLayers - 1, blockParameterCount(false)), blockParameterCount(true));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    private long blockParameterCount(boolean last) {
        long d = innerDim();
        long c = pooledProjectionDim;
        long attn = sum(mul(4, headDim), mul(3, d, d), mul(3, c, d), linearCount(d, d), last ? 0 : linearCount(d, c));
        long ff = mul(3, d, ffInnerDim());
        long ffContext = last ? 0 : mul(3, c, ffContextInnerDim());
        return sum(linearCount(d, 4 * d), last ? linearCount(d, c) : linearCount(d, 4 * c), attn, ff, ffContext);
    }

    private static long linearCount(long in, long out) {
        return Math.addExact(Math.multiplyExact(in, out), out);
    }

    /**
     * The blocks as a cache sees them: {@link BlockGroup#JOINT} blocks with a video and a text stream. Parts: the
     * video half of the joint attention ({@link BlockPart#SELF_ATTENTION}, {@code to_out} before its norm and
     * gate), the video feed-forward, and, except in the last ({@code context_pre_only}) block, whose text stream
     * ends in the attention, the text half ({@code to_add_out}) and the text feed-forward. A block's cost is its
     * multiply-adds per token pair (one video and one text token): the weights each stream's tokens meet.
     */
    public BlockLayout blockLayout() {
        List<Block> blocks = new ArrayList<>(numLayers);
        for (int i = 0; i < numLayers; i++) {
            EnumSet<BlockPart> parts = EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD);
            if (!contextPreOnly(i)) {
                parts.add(BlockPart.CONTEXT_ATTENTION);
                parts.add(BlockPart.CONTEXT_FEED_FORWARD);
            }
            blocks.add(new Block(i, BlockGroup.JOINT, parts, true, true, blockCost(i)));
        }
        return new BlockLayout(blocks);
    }

    /** Weight elements of block {@code layer} that its tokens multiply with (modulation excluded: per sample). */
    double blockCost(int layer) {
        double d = innerDim();
        double c = pooledProjectionDim;
        boolean last = contextPreOnly(layer);
        double video = 4 * d * d + 3 * d * ffInnerDim();
        double text = 3 * c * d + (last ? 0 : d * c + 3 * c * ffContextInnerDim());
        return video + text;
    }

    /**
     * A lower bound on the float32 elements one sample's forward holds at once for {@code tokens} video tokens
     * (after patching) and {@code textTokens} text tokens: per token the hidden state, q, k, v, attention output
     * and the feed-forward's hidden layer, and one head's attention scores.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long activationElements(long tokens, long textTokens) {
        try {
            long all = Math.addExact(tokens, textTokens);
            long perToken = Math.multiplyExact(tokens, 5L * innerDim() + 2 * ffInnerDim());
            return Math.addExact(perToken, Math.multiplyExact(all, all));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** diffusers' {@code config.json} of this layout, with every key its constructor reads, in key order. */
    public Map<String, Object> diffusersConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("_diffusers_version", "0.40.0.dev0");
        m.put("activation_fn", "swiglu");
        m.put("attention_head_dim", headDim);
        m.put("in_channels", inChannels);
        m.put("max_sequence_length", maxSequenceLength);
        m.put("num_attention_heads", numHeads);
        m.put("num_layers", numLayers);
        m.put("out_channels", outChannels);
        m.put("patch_size", patchSize);
        m.put("pooled_projection_dim", pooledProjectionDim);
        m.put("qk_norm", "rms_norm");
        m.put("text_embed_dim", textEmbedDim);
        m.put("time_embed_dim", timeEmbedDim);
        return m;
    }
}
