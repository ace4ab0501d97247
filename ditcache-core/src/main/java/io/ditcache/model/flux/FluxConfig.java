package io.ditcache.model.flux;

import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.linear;
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

/**
 * Configuration of diffusers' {@code FluxTransformer2DModel} (FLUX.1-dev, FLUX.1-schnell), under diffusers' config
 * keys.
 *
 * @param patchSize           {@code patch_size}: 1 (FLUX packs 2x2 latent patches into tokens before the model)
 * @param inChannels          {@code in_channels}: channels of a packed token (64 = 16 VAE channels x 2 x 2)
 * @param outChannels         {@code out_channels} ({@code null} in config.json: {@code in_channels})
 * @param numLayers           {@code num_layers}: double-stream blocks, >= 1
 * @param numSingleLayers     {@code num_single_layers}: single-stream blocks, >= 0
 * @param numHeads            {@code num_attention_heads}
 * @param headDim             {@code attention_head_dim}
 * @param jointAttentionDim   {@code joint_attention_dim}: width of the T5 embeddings
 * @param pooledProjectionDim {@code pooled_projection_dim}: width of the pooled CLIP vector
 * @param guidanceEmbeds      {@code guidance_embeds}: the guidance scale is an input (FLUX.1-dev)
 * @param axesDimsRope        {@code axes_dims_rope}: rotary channels per position axis, each even, summing to
 *                            {@code attention_head_dim}
 */
public record FluxConfig(int patchSize, int inChannels, int outChannels, int numLayers, int numSingleLayers,
        int numHeads, int headDim, int jointAttentionDim, int pooledProjectionDim, boolean guidanceEmbeds,
        List<Integer> axesDimsRope) {

    /** The diffusers class name. */
    public static final String CLASS_NAME = "FluxTransformer2DModel";
    /** Channels of the sinusoidal timestep (and guidance) features. */
    static final int TIME_CHANNELS = 256;
    /** Feed-forward and single-block MLP width over the hidden width. */
    static final int MLP_RATIO = 4;

    public FluxConfig {
        if (patchSize != 1) {
            throw new IllegalArgumentException("patch_size is " + patchSize + ", expected 1 (FLUX packs 2x2 latent "
                    + "patches into tokens outside the transformer)");
        }
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("num_layers", numLayers);
        if (numSingleLayers < 0) {
            throw new IllegalArgumentException("num_single_layers is " + numSingleLayers + ", expected >= 0");
        }
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("joint_attention_dim", jointAttentionDim);
        positive("pooled_projection_dim", pooledProjectionDim);
        if ((long) numHeads * headDim * 6 * MLP_RATIO > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " x attention_head_dim " + headDim
                    + " = " + (long) numHeads * headDim + " is too wide: expected at most "
                    + Integer.MAX_VALUE / (6 * MLP_RATIO) + " (the modulation and MLP widths must fit an int)");
        }
        if ((long) numLayers + numSingleLayers > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("num_layers " + numLayers + " + num_single_layers " + numSingleLayers
                    + " blocks, expected at most " + Integer.MAX_VALUE);
        }
        axesDimsRope = List.copyOf(axesDimsRope);
        if (axesDimsRope.isEmpty()) {
            throw new IllegalArgumentException("axes_dims_rope is [], expected one entry per position axis");
        }
        long sum = 0;
        for (int a : axesDimsRope) {
            if (a < 2 || a % 2 != 0) {
                throw new IllegalArgumentException("axes_dims_rope is " + axesDimsRope + ": " + a
                        + " is not a positive even number of rotary channels");
            }
            sum += a;
        }
        if (sum != headDim) {
            throw new IllegalArgumentException("axes_dims_rope is " + axesDimsRope + ", summing to " + sum
                    + ", but attention_head_dim is " + headDim + " (the rotary channels must cover each head)");
        }
    }

    /** Hidden width: heads x head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Blocks in execution order: the double blocks, then the single blocks. */
    public int layers() {
        return numLayers + numSingleLayers;
    }

    /**
     * Whether the model can be sampled from an unpacked VAE latent: a packed token holds a 2x2 patch of
     * {@code in_channels / 4} channels, and the output unpacks to the same shape.
     */
    public boolean packable() {
        return inChannels % 4 == 0 && outChannels == inChannels;
    }

    /**
     * The parameters diffusers' {@code FluxTransformer2DModel} has under this configuration, by state-dict key in
     * registration order, with their shapes; computed, not built.
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long hd = headDim;
        Map<String, long[]> out = new LinkedHashMap<>();
        String tte = "time_text_embed.";
        linear(out, tte + "timestep_embedder.linear_1", TIME_CHANNELS, d);
        linear(out, tte + "timestep_embedder.linear_2", d, d);
        if (guidanceEmbeds) {
            linear(out, tte + "guidance_embedder.linear_1", TIME_CHANNELS, d);
            linear(out, tte + "guidance_embedder.linear_2", d, d);
        }
        linear(out, tte + "text_embedder.linear_1", pooledProjectionDim, d);
        linear(out, tte + "text_embedder.linear_2", d, d);
        linear(out, "context_embedder", jointAttentionDim, d);
        linear(out, "x_embedder", inChannels, d);
        for (int i = 0; i < numLayers; i++) {
            String b = "transformer_blocks." + i + ".";
            linear(out, b + "norm1.linear", d, 6 * d);
            linear(out, b + "norm1_context.linear", d, 6 * d);
            out.put(b + "attn.norm_q.weight", new long[] {hd});
            out.put(b + "attn.norm_k.weight", new long[] {hd});
            linear(out, b + "attn.to_q", d, d);
            linear(out, b + "attn.to_k", d, d);
            linear(out, b + "attn.to_v", d, d);
            linear(out, b + "attn.to_out.0", d, d);
            out.put(b + "attn.norm_added_q.weight", new long[] {hd});
            out.put(b + "attn.norm_added_k.weight", new long[] {hd});
            linear(out, b + "attn.add_q_proj", d, d);
            linear(out, b + "attn.add_k_proj", d, d);
            linear(out, b + "attn.add_v_proj", d, d);
            linear(out, b + "attn.to_add_out", d, d);
            linear(out, b + "ff.net.0.proj", d, MLP_RATIO * d);
            linear(out, b + "ff.net.2", MLP_RATIO * d, d);
            linear(out, b + "ff_context.net.0.proj", d, MLP_RATIO * d);
            linear(out, b + "ff_context.net.2", MLP_RATIO * d, d);
        }
        for (int i = 0; i < numSingleLayers; i++) {
            String b = "single_transformer_blocks." + i + ".";
            linear(out, b + "norm.linear", d, 3 * d);
            linear(out, b + "proj_mlp", d, MLP_RATIO * d);
            linear(out, b + "proj_out", d + MLP_RATIO * d, d);
            out.put(b + "attn.norm_q.weight", new long[] {hd});
            out.put(b + "attn.norm_k.weight", new long[] {hd});
            linear(out, b + "attn.to_q", d, d);
            linear(out, b + "attn.to_k", d, d);
            linear(out, b + "attn.to_v", d, d);
        }
        linear(out, "norm_out.linear", d, 2 * d);
        linear(out, "proj_out", d, (long) patchSize * patchSize * outChannels);
        return out;
    }

    /**
     * The blocks as a cache sees them: {@code num_layers} {@link BlockGroup#DOUBLE} blocks (image and context
     * streams; parts: the image half of the joint attention, the context half, both feed-forwards), then
     * {@code num_single_layers} {@link BlockGroup#SINGLE} blocks over the concatenated [text; image] sequence
     * (parts: the attention and the MLP branch before the fused output projection). Each block's cost is its
     * multiply-adds per token, from {@link #parameterShapes()}: the weights of its per-token projections (the
     * modulation and the q/k norms act once per sample and are left out), divided by the streams a token is in
     * one of. A double block holds about twice a single block's weights, but a token meets one stream's half:
     * both cost {@code 12 d^2} at width {@code d}.
     */
    public BlockLayout blockLayout() {
        Map<String, long[]> shapes = parameterShapes();
        double doubleCost = numLayers > 0 ? perTokenCost(shapes, "transformer_blocks.0.") / 2 : 0;
        double singleCost = numSingleLayers > 0 ? perTokenCost(shapes, "single_transformer_blocks.0.") : 0;
        List<Block> blocks = new ArrayList<>(layers());
        for (int i = 0; i < numLayers; i++) {
            blocks.add(new Block(i, BlockGroup.DOUBLE, EnumSet.of(BlockPart.SELF_ATTENTION,
                    BlockPart.CONTEXT_ATTENTION, BlockPart.FEED_FORWARD, BlockPart.CONTEXT_FEED_FORWARD), true, true,
                    doubleCost));
        }
        for (int i = 0; i < numSingleLayers; i++) {
            blocks.add(new Block(numLayers + i, BlockGroup.SINGLE, EnumSet.of(BlockPart.SELF_ATTENTION,
                    BlockPart.FEED_FORWARD), false, true, singleCost));
        }
        return new BlockLayout(blocks);
    }

    /** Multiply-adds per token of a block's projections: its matrices, less the per-sample modulation. */
    private static double perTokenCost(Map<String, long[]> shapes, String prefix) {
        double cost = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(prefix) || e.getValue().length != 2) {
                continue;
            }
            String local = key.substring(prefix.length());
            if (local.startsWith("norm")) {
                continue; // adaLN modulation: one vector per sample, not per token
            }
            cost += (double) e.getValue()[0] * e.getValue()[1];
        }
        return cost;
    }

    /** Number of parameters, by arithmetic over {@link #parameterShapes()}. */
    public long parameterCount() {
        long n = 0;
        for (long[] shape : parameterShapes().values()) {
            n = Math.addExact(n, Arrays.stream(shape).reduce(1, Math::multiplyExact));
        }
        return n;
    }

    /** diffusers' {@code config.json} of this model, with every key its constructor reads, in key order. */
    public Map<String, Object> diffusersConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("_diffusers_version", "0.40.0.dev0");
        m.put("attention_head_dim", headDim);
        m.put("axes_dims_rope", axesDimsRope);
        m.put("guidance_embeds", guidanceEmbeds);
        m.put("in_channels", inChannels);
        m.put("joint_attention_dim", jointAttentionDim);
        m.put("num_attention_heads", numHeads);
        m.put("num_layers", numLayers);
        m.put("num_single_layers", numSingleLayers);
        m.put("out_channels", outChannels);
        m.put("patch_size", patchSize);
        m.put("pooled_projection_dim", pooledProjectionDim);
        return m;
    }


}
