package io.ditcache.model.pixart;

import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.linear;
import static io.ditcache.model.layers.ShapeArithmetic.sum;
import static io.ditcache.model.layers.ShapeArithmetic.mul;
import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configuration of a PixArt-α transformer in diffusers' {@code PixArtTransformer2DModel} layout (adaLN-single,
 * self-attention, cross-attention to the projected caption, tanh-GELU feed-forward).
 *
 * @param sampleSize              latent height and width the model was trained at ({@code sample_size})
 * @param patchSize               patch edge
 * @param inChannels              latent channels
 * @param outChannels             output channels: {@code in_channels}, or twice that with learned sigma
 * @param numLayers               transformer blocks
 * @param numHeads                attention heads
 * @param headDim                 channels per head
 * @param crossAttentionDim       width of the cross-attention keys and values' input ({@code cross_attention_dim});
 *                                the caption projection outputs the inner dim, so it equals the inner dim
 * @param captionChannels         width of the text encoder's states ({@code caption_channels}, 4096 for T5-XXL)
 * @param normEps                 epsilon of the blocks' LayerNorms ({@code norm_eps})
 * @param attentionBias           whether the q/k/v projections have a bias
 * @param useAdditionalConditions whether the timestep embedding adds resolution and aspect-ratio embeddings
 * @param interpolationScale      the position table's interpolation scale, resolved (diffusers' default when the
 *                                config says null: {@code max(sample_size / 64, 1)})
 * @param numEmbedsAdaNorm        {@code num_embeds_ada_norm}, recorded only (adaLN-single has no table)
 */
public record PixArtConfig(int sampleSize, int patchSize, int inChannels, int outChannels, int numLayers,
        int numHeads, int headDim, int crossAttentionDim, int captionChannels, double normEps,
        boolean attentionBias, boolean useAdditionalConditions, double interpolationScale, int numEmbedsAdaNorm) {

    /** The diffusers class name of this layout. */
    public static final String CLASS_NAME = "PixArtTransformer2DModel";
    /** Channels of the sinusoidal timestep (and size) features. */
    public static final int FREQ_CHANNELS = 256;
    /** The most elements a Java array holds. */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    public PixArtConfig {
        positive("sample_size", sampleSize);
        positive("patch_size", patchSize);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("num_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("cross_attention_dim", crossAttentionDim);
        positive("caption_channels", captionChannels);
        positive("num_embeds_ada_norm", numEmbedsAdaNorm);
        if (sampleSize % patchSize != 0) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " is not a multiple of patch_size "
                    + patchSize);
        }
        if (outChannels != inChannels && outChannels != 2L * inChannels) {
            throw new IllegalArgumentException("out_channels is " + outChannels + ", expected in_channels "
                    + inChannels + " or, with learned sigma, " + 2L * inChannels);
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
        if (useAdditionalConditions && inner % 3 != 0) {
            throw new IllegalArgumentException("use_additional_conditions is true, but the inner dim " + inner
                    + " is not a multiple of 3 (resolution and aspect-ratio embeddings take a third each)");
        }
        long side = sampleSize / patchSize;
        if (side * side > MAX_ARRAY / inner) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " / patch_size " + patchSize + " gives "
                    + side * side + " tokens of inner dim " + inner + ", a position table larger than a Java "
                    + "array (" + MAX_ARRAY + " floats)");
        }
        if (!(normEps > 0) || !Double.isFinite(normEps)) {
            throw new IllegalArgumentException("norm_eps is " + normEps + ", expected a finite number > 0");
        }
        if (!(interpolationScale > 0) || !Double.isFinite(interpolationScale)) {
            throw new IllegalArgumentException("interpolation_scale is " + interpolationScale
                    + ", expected a finite number > 0");
        }
    }

    /** diffusers' rule when {@code interpolation_scale} is null: {@code max(sample_size // 64, 1)}. */
    public static double defaultInterpolationScale(int sampleSize) {
        return Math.max(sampleSize / 64, 1);
    }

    /** Hidden width: heads × head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Width of the resolution and aspect-ratio embeddings ({@code inner_dim // 3}). */
    public int sizeEmbeddingDim() {
        return innerDim() / 3;
    }

    /** Whether the model predicts a variance beside the noise. */
    public boolean learnedSigma() {
        return outChannels == 2 * inChannels;
    }

    /** Tokens per side at the configured sample size: the position table's base size. */
    public int gridSize() {
        return sampleSize / patchSize;
    }

    /**
     * The parameters diffusers' {@code PixArtTransformer2DModel} has under this configuration, by state-dict key in
     * registration order ({@code named_parameters()}: a module's own parameters before its children's), with their
     * shapes; computed, not built.
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long p = patchSize;
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("scale_shift_table", new long[] {2, d});
        out.put("pos_embed.proj.weight", new long[] {d, inChannels, p, p});
        out.put("pos_embed.proj.bias", new long[] {d});
        for (int i = 0; i < numLayers; i++) {
            String b = "transformer_blocks." + i + ".";
            out.put(b + "scale_shift_table", new long[] {6, d});
            attention(out, b + "attn1.", d, d);
            attention(out, b + "attn2.", d, crossAttentionDim);
            linear(out, b + "ff.net.0.proj", d, 4 * d, true);
            linear(out, b + "ff.net.2", 4 * d, d, true);
        }
        linear(out, "proj_out", d, p * p * outChannels, true);
        linear(out, "adaln_single.emb.timestep_embedder.linear_1", FREQ_CHANNELS, d, true);
        linear(out, "adaln_single.emb.timestep_embedder.linear_2", d, d, true);
        if (useAdditionalConditions) {
            long s = sizeEmbeddingDim();
            for (String e : new String[] {"resolution_embedder", "aspect_ratio_embedder"}) {
                linear(out, "adaln_single.emb." + e + ".linear_1", FREQ_CHANNELS, s, true);
                linear(out, "adaln_single.emb." + e + ".linear_2", s, s, true);
            }
        }
        linear(out, "adaln_single.linear", d, 6 * d, true);
        linear(out, "caption_projection.linear_1", captionChannels, d, true);
        linear(out, "caption_projection.linear_2", d, d, true);
        return out;
    }

    /**
     * The blocks as a cache sees them: plain image-stream blocks with self-attention, cross-attention and
     * feed-forward, each weighing its multiply-adds per image token: {@code 4 d^2} for the self-attention
     * projections, {@code 2 d^2} for the cross-attention's query and output projections, {@code 8 d^2} for the
     * feed-forward. The cross-attention's keys and values run on the caption's tokens (120 for PixArt-α), not per
     * image token, and are left out.
     */
    public BlockLayout blockLayout() {
        double d = innerDim();
        double cost = 14 * d * d;
        EnumSet<BlockPart> parts = EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                BlockPart.FEED_FORWARD);
        return BlockLayout.of(numLayers, i -> new Block(i, BlockGroup.PLAIN, parts, false, true, cost));
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
            long s = sizeEmbeddingDim();
            long sizeEmbedders = useAdditionalConditions ? mul(2, sum(mul(FREQ_CHANNELS + 1, s), mul(s + 1, s))) : 0;
            long fixed = sum(
                    mul(2, d), // scale_shift_table
                    mul(d, inChannels, pp), d, // pos_embed.proj
                    mul(d + 1, pp, outChannels), // proj_out
                    mul(FREQ_CHANNELS + 1, d), mul(d + 1, d), sizeEmbedders, mul(d + 1, 6, d), // adaln_single
                    mul(captionChannels + 1L, d), mul(d + 1, d)); // caption_projection
            return sum(fixed, mul(blockParameterCount(), numLayers));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /**
     * Parameters of one transformer block.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long blockParameterCount() {
        try {
            long d = innerDim();
            long bias = attentionBias ? d : 0;
            long self = sum(mul(3, sum(mul(d, d), bias)), mul(d + 1, d));
            long cross = sum(mul(d, d), bias, mul(2, sum(mul(d, crossAttentionDim), bias)), mul(d + 1, d));
            return sum(mul(6, d), self, cross, mul(d + 1, 4, d), mul(4 * d + 1, d));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /**
     * A lower bound on the float32 elements one sample's forward holds at once at an {@code h × w} latent with
     * {@code textTokens} caption tokens: latents in and out, per image token the hidden state, q, k, v, attention
     * output, modulated input and the feed-forward's 4-wide hidden layer, per text token its states and keys and
     * values.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long activationElements(long h, long w, long textTokens) {
        try {
            long pixels = mul(h, w);
            long tokens = pixels / ((long) patchSize * patchSize);
            return sum(mul(pixels, (long) inChannels + outChannels), mul(tokens, innerDim(), 10),
                    mul(textTokens, (long) captionChannels + 3L * innerDim()));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** diffusers' {@code config.json} of this layout, with every key its constructor reads, in key order. */
    public Map<String, Object> diffusersConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("_diffusers_version", "0.40.0.dev0");
        m.put("activation_fn", "gelu-approximate");
        m.put("attention_bias", attentionBias);
        m.put("attention_head_dim", headDim);
        m.put("attention_type", "default");
        m.put("caption_channels", captionChannels);
        m.put("cross_attention_dim", crossAttentionDim);
        m.put("dropout", 0.0);
        m.put("in_channels", inChannels);
        m.put("interpolation_scale", interpolationScale == Math.rint(interpolationScale)
                ? (Object) (int) interpolationScale : (Object) interpolationScale);
        m.put("norm_elementwise_affine", false);
        m.put("norm_eps", normEps);
        m.put("norm_num_groups", 32);
        m.put("norm_type", "ada_norm_single");
        m.put("num_attention_heads", numHeads);
        m.put("num_embeds_ada_norm", numEmbedsAdaNorm);
        m.put("num_layers", numLayers);
        m.put("out_channels", outChannels);
        m.put("patch_size", patchSize);
        m.put("sample_size", sampleSize);
        m.put("upcast_attention", false);
        m.put("use_additional_conditions", useAdditionalConditions);
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
