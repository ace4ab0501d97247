package io.ditcache.model.sd3;

import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.linear;
import static io.ditcache.model.layers.ShapeArithmetic.sum;
import static io.ditcache.model.layers.ShapeArithmetic.mul;
import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Configuration of diffusers' {@code SD3Transformer2DModel} (Stable Diffusion 3 and 3.5), under diffusers' names.
 *
 * @param sampleSize          default latent height and width ({@code sample_size})
 * @param patchSize           patch edge
 * @param inChannels          latent channels
 * @param outChannels         output channels
 * @param numLayers           joint transformer blocks; the last is {@code context_pre_only}
 * @param numHeads            attention heads
 * @param headDim             channels per head
 * @param jointAttentionDim   width of the text encoder's tokens ({@code encoder_hidden_states})
 * @param captionProjectionDim width of the projected text tokens; diffusers' blocks need it equal to the inner dim
 * @param pooledProjectionDim width of the pooled text vector ({@code pooled_projections})
 * @param posEmbedMaxSize     tokens per side of the stored position table, cropped to the grid at run time
 * @param qkRmsNorm           whether q and k are RMS-normalised per head ({@code qk_norm = "rms_norm"})
 * @param dualAttentionLayers blocks with SD3.5's second image self-attention ({@code attn2}), sorted, distinct
 */
public record SD3Config(int sampleSize, int patchSize, int inChannels, int outChannels, int numLayers, int numHeads,
        int headDim, int jointAttentionDim, int captionProjectionDim, int pooledProjectionDim, int posEmbedMaxSize,
        boolean qkRmsNorm, List<Integer> dualAttentionLayers) {
    /** The diffusers class name of this layout. */
    public static final String CLASS_NAME = "SD3Transformer2DModel";
    /** Channels of the sinusoidal timestep projection. */
    static final int TIME_CHANNELS = 256;
    /** Width of the feed-forward hidden layer, in inner dims. */
    static final int FF_MULT = 4;

    public SD3Config {
        positive("sample_size", sampleSize);
        positive("patch_size", patchSize);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("num_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("joint_attention_dim", jointAttentionDim);
        positive("caption_projection_dim", captionProjectionDim);
        positive("pooled_projection_dim", pooledProjectionDim);
        positive("pos_embed_max_size", posEmbedMaxSize);
        long inner = (long) numHeads * headDim;
        if (inner > Integer.MAX_VALUE / (2L * FF_MULT + 1)) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " x attention_head_dim " + headDim
                    + " = " + inner + " is too large an inner dim, expected at most "
                    + Integer.MAX_VALUE / (2 * FF_MULT + 1));
        }
        if (captionProjectionDim != inner) {
            throw new IllegalArgumentException("caption_projection_dim is " + captionProjectionDim
                    + ", expected num_attention_heads " + numHeads + " x attention_head_dim " + headDim + " = "
                    + inner + " (the joint blocks take the projected text at the inner dim)");
        }
        if (sampleSize % patchSize != 0) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " is not a multiple of patch_size "
                    + patchSize);
        }
        if (sampleSize / patchSize > posEmbedMaxSize) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " / patch_size " + patchSize + " = "
                    + sampleSize / patchSize + " tokens per side, more than pos_embed_max_size " + posEmbedMaxSize);
        }
        if ((long) posEmbedMaxSize * posEmbedMaxSize > Integer.MAX_VALUE / inner) {
            throw new IllegalArgumentException("pos_embed_max_size " + posEmbedMaxSize + " squared x inner dim "
                    + inner + " is a position table of more than " + Integer.MAX_VALUE + " floats");
        }
        Objects.requireNonNull(dualAttentionLayers, "dual_attention_layers");
        TreeSet<Integer> dual = new TreeSet<>();
        for (Integer i : dualAttentionLayers) {
            if (i == null || i < 0 || i >= numLayers) {
                throw new IllegalArgumentException("dual_attention_layers holds " + i + ", expected block indices "
                        + "from 0 to " + (numLayers - 1) + " (num_layers " + numLayers + ")");
            }
            dual.add(i);
        }
        dualAttentionLayers = List.copyOf(dual);
    }

    /** Hidden width: heads x head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Whether block {@code layer} has SD3.5's second self-attention. */
    public boolean dual(int layer) {
        return dualAttentionLayers.contains(layer);
    }

    /** Whether block {@code layer} is the last, {@code context_pre_only} one (no context output). */
    public boolean contextPreOnly(int layer) {
        return layer == numLayers - 1;
    }

    /** Tokens per side at the default sample size. */
    public int gridSize() {
        return sampleSize / patchSize;
    }

    /**
     * The parameters diffusers' {@code SD3Transformer2DModel} has under this configuration ({@code
     * named_parameters()}), by key in registration order, with their shapes: computed, not built. The stored
     * position table {@code pos_embed.pos_embed} is a buffer, not a parameter: see {@link #stateDictShapes()}.
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long p = patchSize;
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("pos_embed.proj.weight", new long[] {d, inChannels, p, p});
        out.put("pos_embed.proj.bias", new long[] {d});
        linear(out, "time_text_embed.timestep_embedder.linear_1", TIME_CHANNELS, d);
        linear(out, "time_text_embed.timestep_embedder.linear_2", d, d);
        linear(out, "time_text_embed.text_embedder.linear_1", pooledProjectionDim, d);
        linear(out, "time_text_embed.text_embedder.linear_2", d, d);
        linear(out, "context_embedder", jointAttentionDim, captionProjectionDim);
        for (int i = 0; i < numLayers; i++) {
            blockShapes(out, "transformer_blocks." + i + ".", i);
        }
        linear(out, "norm_out.linear", d, 2 * d);
        linear(out, "proj_out", d, p * p * outChannels);
        return out;
    }

    /** {@link #parameterShapes()} and the stored position table: every key of a checkpoint's state dict. */
    public Map<String, long[]> stateDictShapes() {
        Map<String, long[]> out = parameterShapes();
        out.put(SD3PatchEmbed.TABLE_KEY, new long[] {1, (long) posEmbedMaxSize * posEmbedMaxSize, innerDim()});
        return out;
    }

    /** One JointTransformerBlock's parameters, in registration order. */
    private void blockShapes(Map<String, long[]> out, String b, int layer) {
        long d = innerDim();
        linear(out, b + "norm1.linear", d, (dual(layer) ? 9 : 6) * d);
        linear(out, b + "norm1_context.linear", d, (contextPreOnly(layer) ? 2 : 6) * d);
        attentionShapes(out, b + "attn.", true, !contextPreOnly(layer));
        if (dual(layer)) {
            attentionShapes(out, b + "attn2.", false, false);
        }
        feedForward(out, b + "ff.");
        if (!contextPreOnly(layer)) {
            feedForward(out, b + "ff_context.");
        }
    }

    /** diffusers' {@code Attention}: q/k norms are registered before the projections, added ones after. */
    private void attentionShapes(Map<String, long[]> out, String a, boolean added, boolean contextOut) {
        long d = innerDim();
        if (qkRmsNorm) {
            out.put(a + "norm_q.weight", new long[] {headDim});
            out.put(a + "norm_k.weight", new long[] {headDim});
        }
        linear(out, a + "to_q", d, d);
        linear(out, a + "to_k", d, d);
        linear(out, a + "to_v", d, d);
        if (added) {
            linear(out, a + "add_k_proj", d, d);
            linear(out, a + "add_v_proj", d, d);
            linear(out, a + "add_q_proj", d, d);
        }
        linear(out, a + "to_out.0", d, d);
        if (contextOut) {
            linear(out, a + "to_add_out", d, d);
        }
        if (added && qkRmsNorm) {
            out.put(a + "norm_added_q.weight", new long[] {headDim});
            out.put(a + "norm_added_k.weight", new long[] {headDim});
        }
    }

    private void feedForward(Map<String, long[]> out, String f) {
        long d = innerDim();
        linear(out, f + "net.0.proj", d, FF_MULT * d);
        linear(out, f + "net.2", FF_MULT * d, d);
    }

    /**
     * Number of parameters (diffusers' {@code num_parameters()}: the position table buffer not included), by
     * arithmetic, without listing the keys.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long parameterCount() {
        try {
            long d = innerDim();
            long pp = (long) patchSize * patchSize;
            long fixed = sum(mul(d, inChannels, pp), d, linearCount(TIME_CHANNELS, d), linearCount(d, d),
                    linearCount(pooledProjectionDim, d), linearCount(d, d),
                    linearCount(jointAttentionDim, captionProjectionDim), linearCount(d, 2 * d),
                    linearCount(d, pp * outChannels));
            boolean lastDual = dual(numLayers - 1);
            long middleDual = dualAttentionLayers.size() - (lastDual ? 1 : 0);
            long middlePlain = numLayers - 1 - middleDual;
            return sum(fixed, mul(middlePlain, blockParameterCount(false, false)),
                    mul(middleDual, blockParameterCount(true, false)), blockParameterCount(lastDual, true));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** Parameters of one joint block, dual-attention or not, last or not. */
    private long blockParameterCount(boolean dual, boolean last) {
        long d = innerDim();
        long norms = qkRmsNorm ? 2L * headDim : 0;
        long projection = linearCount(d, d);
        long ff = sum(linearCount(d, FF_MULT * d), linearCount(FF_MULT * d, d));
        long attn = sum(norms, mul(last ? 7 : 8, projection), norms);
        long attn2 = dual ? sum(norms, mul(4, projection)) : 0;
        return sum(linearCount(d, (dual ? 9 : 6) * d), linearCount(d, (last ? 2 : 6) * d), attn, attn2, ff,
                last ? 0 : ff);
    }

    private static long linearCount(long in, long out) {
        return Math.addExact(Math.multiplyExact(in, out), out);
    }



    static long count(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) {
            n = Math.addExact(n, Arrays.stream(s).reduce(1, Math::multiplyExact));
        }
        return n;
    }

    /**
     * The blocks as a cache sees them: {@link BlockGroup#JOINT} blocks with an image and a context stream. Parts:
     * the image half of the joint attention ({@link BlockPart#SELF_ATTENTION}; in SD3.5's dual blocks together
     * with the second self-attention), the image feed-forward, and, except in the last ({@code context_pre_only})
     * block, whose context stream ends in the attention, the context half of the attention and the context
     * feed-forward. A block's cost is its multiply-adds per token pair (one image and one text token): the
     * weights each stream's tokens meet.
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
        double imageAttention = 4 * d * d + (dual(layer) ? 4 * d * d : 0);
        double contextAttention = (contextPreOnly(layer) ? 3 : 4) * d * d;
        double feedForward = 2 * FF_MULT * d * d;
        return imageAttention + feedForward + contextAttention + (contextPreOnly(layer) ? 0 : feedForward);
    }

    /**
     * A lower bound on the float32 elements one sample's forward holds at once at an {@code h x w} latent with
     * {@code textTokens} text tokens: latent in and out, per token the hidden state, q, k, v, attention output and
     * the feed-forward's hidden layer, and one head's attention scores.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long activationElements(long h, long w, long textTokens) {
        try {
            long pixels = Math.multiplyExact(h, w);
            long tokens = Math.addExact(pixels / ((long) patchSize * patchSize), textTokens);
            long perToken = Math.multiplyExact(tokens, (long) innerDim() * (6 + FF_MULT));
            return Math.addExact(Math.addExact(Math.multiplyExact(pixels, (long) inChannels + outChannels),
                    perToken), Math.multiplyExact(tokens, tokens));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** diffusers' {@code config.json} of this layout, with every key its constructor reads, in key order. */
    public Map<String, Object> diffusersConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("_diffusers_version", "0.40.0.dev0");
        m.put("attention_head_dim", headDim);
        m.put("caption_projection_dim", captionProjectionDim);
        m.put("dual_attention_layers", dualAttentionLayers);
        m.put("in_channels", inChannels);
        m.put("joint_attention_dim", jointAttentionDim);
        m.put("num_attention_heads", numHeads);
        m.put("num_layers", numLayers);
        m.put("out_channels", outChannels);
        m.put("patch_size", patchSize);
        m.put("pooled_projection_dim", pooledProjectionDim);
        m.put("pos_embed_max_size", posEmbedMaxSize);
        m.put("qk_norm", qkRmsNorm ? "rms_norm" : null);
        m.put("sample_size", sampleSize);
        return m;
    }


}
