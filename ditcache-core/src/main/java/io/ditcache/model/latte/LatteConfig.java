package io.ditcache.model.latte;

import static io.ditcache.model.layers.ShapeArithmetic.linear;
import static io.ditcache.model.layers.ShapeArithmetic.mul;
import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.sum;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configuration of a Latte transformer in diffusers' {@code LatteTransformer3DModel} layout: per layer a spatial
 * {@code BasicTransformerBlock} (adaLN-single, self-attention over one frame's patches, cross-attention to the
 * projected caption, feed-forward) and a temporal one (self-attention over the frames of one patch position,
 * feed-forward), all modulated by one shared {@code adaln_single}.
 *
 * @param sampleSize        latent height and width the model was trained at ({@code sample_size})
 * @param patchSize         patch edge
 * @param inChannels        latent channels
 * @param outChannels       output channels: {@code in_channels}, or twice that with learned sigma
 * @param numLayers         spatial (and as many temporal) blocks
 * @param numHeads          attention heads
 * @param headDim           channels per head
 * @param crossAttentionDim width of the cross-attention keys' and values' input; the caption projection outputs the
 *                          inner dim, so it equals the inner dim
 * @param captionChannels   width of the text encoder's states ({@code caption_channels}, 4096 for T5-XXL)
 * @param normEps           epsilon of the blocks' LayerNorms ({@code norm_eps})
 * @param attentionBias     whether the q/k/v projections have a bias
 * @param activation        the feed-forward's activation: {@code gelu-approximate} or {@code gelu}
 * @param videoLength       frames of the temporal position table ({@code video_length}); a latent with more than
 *                          one frame must have exactly this many
 * @param numEmbedsAdaNorm  {@code num_embeds_ada_norm}, recorded only (adaLN-single has no table)
 */
public record LatteConfig(int sampleSize, int patchSize, int inChannels, int outChannels, int numLayers,
        int numHeads, int headDim, int crossAttentionDim, int captionChannels, double normEps,
        boolean attentionBias, String activation, int videoLength, int numEmbedsAdaNorm) {

    /** The diffusers class name of this layout. */
    public static final String CLASS_NAME = "LatteTransformer3DModel";
    /** Channels of the sinusoidal timestep features. */
    public static final int FREQ_CHANNELS = 256;
    /** The most elements a Java array holds. */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    public LatteConfig {
        positive("sample_size", sampleSize);
        positive("patch_size", patchSize);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("num_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("cross_attention_dim", crossAttentionDim);
        positive("caption_channels", captionChannels);
        positive("video_length", videoLength);
        positive("num_embeds_ada_norm", numEmbedsAdaNorm);
        if (sampleSize % patchSize != 0) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " is not a multiple of patch_size "
                    + patchSize);
        }
        if (outChannels != inChannels && outChannels != 2L * inChannels) {
            throw new IllegalArgumentException("out_channels is " + outChannels + ", expected in_channels "
                    + inChannels + " or, with learned sigma, " + 2L * inChannels);
        }
        if (numLayers > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("num_layers is " + numLayers + ", expected at most "
                    + Integer.MAX_VALUE / 2 + " (two blocks per layer)");
        }
        long inner = (long) numHeads * headDim;
        if (inner > Integer.MAX_VALUE / 6) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " x attention_head_dim " + headDim
                    + " = " + inner + ", expected at most " + Integer.MAX_VALUE / 6);
        }
        if (inner % 4 != 0) {
            throw new IllegalArgumentException("inner dim " + inner
                    + " (num_attention_heads x attention_head_dim) must be a multiple of 4 for the 2-D sin-cos "
                    + "position table");
        }
        if (crossAttentionDim != inner) {
            throw new IllegalArgumentException("cross_attention_dim is " + crossAttentionDim + ", expected the inner "
                    + "dim " + inner + " (num_attention_heads x attention_head_dim): caption_projection outputs it");
        }
        if (!"gelu-approximate".equals(activation) && !"gelu".equals(activation)) {
            throw new IllegalArgumentException("activation_fn is \"" + activation
                    + "\", expected \"gelu-approximate\" or \"gelu\"");
        }
        long side = sampleSize / patchSize;
        if (side * side > MAX_ARRAY / inner || videoLength > MAX_ARRAY / inner) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " / patch_size " + patchSize
                    + " and video_length " + videoLength + " with inner dim " + inner + " give a position table "
                    + "larger than a Java array (" + MAX_ARRAY + " floats)");
        }
        if (!(normEps > 0) || !Double.isFinite(normEps)) {
            throw new IllegalArgumentException("norm_eps is " + normEps + ", expected a finite number > 0");
        }
    }

    /** Hidden width: heads × head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Whether the model predicts a variance beside the noise. */
    public boolean learnedSigma() {
        return outChannels == 2 * inChannels;
    }

    /** Tokens per side at the configured sample size: the position table's base size. */
    public int gridSize() {
        return sampleSize / patchSize;
    }

    /** diffusers' interpolation scale of the 2-D table: {@code max(sample_size // 64, 1)}. */
    public double interpolationScale() {
        return Math.max(sampleSize / 64, 1);
    }

    /** Blocks in execution order: spatial {@code 2i}, temporal {@code 2i + 1}. */
    public int blocks() {
        return 2 * numLayers;
    }

    /**
     * The parameters diffusers' {@code LatteTransformer3DModel} has under this configuration, by state-dict key in
     * {@code named_parameters()} order (a module's own parameters before its children's), with their shapes;
     * computed, not built.
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long p = patchSize;
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("scale_shift_table", new long[] {2, d});
        out.put("pos_embed.proj.weight", new long[] {d, inChannels, p, p});
        out.put("pos_embed.proj.bias", new long[] {d});
        for (String list : new String[] {"transformer_blocks.", "temporal_transformer_blocks."}) {
            for (int i = 0; i < numLayers; i++) {
                String b = list + i + ".";
                out.put(b + "scale_shift_table", new long[] {6, d});
                attention(out, b + "attn1.", d, d);
                if (list.startsWith("transformer")) {
                    attention(out, b + "attn2.", d, crossAttentionDim);
                }
                linear(out, b + "ff.net.0.proj", d, 4 * d, true);
                linear(out, b + "ff.net.2", 4 * d, d, true);
            }
        }
        linear(out, "proj_out", d, p * p * outChannels, true);
        linear(out, "adaln_single.emb.timestep_embedder.linear_1", FREQ_CHANNELS, d, true);
        linear(out, "adaln_single.emb.timestep_embedder.linear_2", d, d, true);
        linear(out, "adaln_single.linear", d, 6 * d, true);
        linear(out, "caption_projection.linear_1", captionChannels, d, true);
        linear(out, "caption_projection.linear_2", d, d, true);
        return out;
    }

    /**
     * The blocks as a cache sees them, in execution order: spatial block {@code 2i} ({@link BlockGroup#SPATIAL}:
     * self-attention, cross-attention, feed-forward) and temporal block {@code 2i + 1} ({@link BlockGroup#TEMPORAL}:
     * self-attention, feed-forward). Costs are multiply-adds per video token at the configured shape ({@code N}
     * patches per frame, {@code F = video_length} frames): spatial {@code 14 d^2 + 2 N d} (q/k/v/out, the
     * cross-attention's query and output, the feed-forward's {@code 8 d^2}, attention scores and mixing over the
     * frame's N tokens), temporal {@code 12 d^2 + 2 F d} (attention over F tokens: cheaper). The cross-attention's
     * keys and values run on the caption's tokens, not per video token, and are left out.
     */
    public BlockLayout blockLayout() {
        double d = innerDim();
        double n = (double) gridSize() * gridSize();
        double spatial = 14 * d * d + 2 * n * d;
        double temporal = 12 * d * d + 2.0 * videoLength * d;
        EnumSet<BlockPart> spatialParts = EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                BlockPart.FEED_FORWARD);
        EnumSet<BlockPart> temporalParts = EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD);
        return BlockLayout.of(blocks(), i -> i % 2 == 0
                ? new Block(i, BlockGroup.SPATIAL, spatialParts, false, true, spatial)
                : new Block(i, BlockGroup.TEMPORAL, temporalParts, false, true, temporal));
    }

    /**
     * Number of parameters, {@link #parameterShapes()} summed by arithmetic without building the map.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long parameterCount() {
        try {
            long d = innerDim();
            long pp = (long) patchSize * patchSize;
            long fixed = sum(
                    mul(2, d), // scale_shift_table
                    mul(d, inChannels, pp), d, // pos_embed.proj
                    mul(d + 1, pp, outChannels), // proj_out
                    mul(FREQ_CHANNELS + 1, d), mul(d + 1, d), mul(d + 1, 6, d), // adaln_single
                    mul(captionChannels + 1L, d), mul(d + 1, d)); // caption_projection
            long pair = sum(blockParameterCount(true), blockParameterCount(false));
            return sum(fixed, mul(pair, numLayers));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /**
     * Parameters of one spatial ({@code spatial}) or temporal block.
     *
     * @throws ArithmeticException when it exceeds a long
     */
    long blockParameterCount(boolean spatial) {
        long d = innerDim();
        long bias = attentionBias ? d : 0;
        long self = sum(mul(3, sum(mul(d, d), bias)), mul(d + 1, d));
        long cross = spatial ? sum(mul(d, d), bias, mul(2, sum(mul(d, crossAttentionDim), bias)), mul(d + 1, d)) : 0;
        return sum(mul(6, d), self, cross, mul(d + 1, 4, d), mul(4 * d + 1, d));
    }

    /** diffusers' {@code config.json} of this layout, with every key its constructor reads, in key order. */
    public Map<String, Object> diffusersConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("_diffusers_version", "0.40.0.dev0");
        m.put("activation_fn", activation);
        m.put("attention_bias", attentionBias);
        m.put("attention_head_dim", headDim);
        m.put("caption_channels", captionChannels);
        m.put("cross_attention_dim", crossAttentionDim);
        m.put("dropout", 0.0);
        m.put("in_channels", inChannels);
        m.put("norm_elementwise_affine", false);
        m.put("norm_eps", normEps);
        m.put("norm_type", "ada_norm_single");
        m.put("num_attention_heads", numHeads);
        m.put("num_embeds_ada_norm", numEmbedsAdaNorm);
        m.put("num_layers", numLayers);
        m.put("out_channels", outChannels);
        m.put("patch_size", patchSize);
        m.put("sample_size", sampleSize);
        m.put("video_length", videoLength);
        return m;
    }

    private void attention(Map<String, long[]> out, String prefix, long d, long kvIn) {
        // registration order of diffusers' Attention: to_q, to_k, to_v, to_out.0 (to_out.1 is a Dropout)
        linear(out, prefix + "to_q", d, d, attentionBias);
        linear(out, prefix + "to_k", kvIn, d, attentionBias);
        linear(out, prefix + "to_v", kvIn, d, attentionBias);
        linear(out, prefix + "to_out.0", d, d, true);
    }
}
