package io.ditcache.model.dit;

import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.linear;
import static io.ditcache.model.layers.ShapeArithmetic.sum;
import static io.ditcache.model.layers.ShapeArithmetic.mul;
import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.io.MemoryBudget;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configuration of a class-conditional DiT in diffusers' {@code DiTTransformer2DModel} layout.
 *
 * @param sampleSize   latent height and width the positional table is built for
 * @param patchSize    patch edge
 * @param inChannels   latent channels
 * @param outChannels  output channels ({@code 2 * inChannels} with learned sigma)
 * @param numLayers    transformer blocks
 * @param numHeads     attention heads
 * @param headDim      channels per head
 * @param numClasses   class labels ({@code num_embeds_ada_norm}); label {@code numClasses} is the null class
 * @param normEps      epsilon of the feed-forward LayerNorm ({@code norm_eps})
 * @param attentionBias whether q/k/v projections have a bias
 */
public record DiTConfig(int sampleSize, int patchSize, int inChannels, int outChannels, int numLayers, int numHeads,
        int headDim, int numClasses, double normEps, boolean attentionBias) {

    /** The diffusers class name this layout corresponds to. */
    public static final String CLASS_NAME = "DiTTransformer2DModel";
    /** The most elements a Java array holds (the position table is built as one). */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    public DiTConfig {
        positive("sample_size", sampleSize);
        positive("patch_size", patchSize);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("num_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("num_embeds_ada_norm", numClasses);
        if (sampleSize % patchSize != 0) {
            throw new IllegalArgumentException("sample_size " + sampleSize + " is not a multiple of patch_size "
                    + patchSize);
        }
        long inner = (long) numHeads * headDim;
        if (inner > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " x attention_head_dim "
                    + headDim + " = " + inner + " overflows the inner dim, expected at most " + Integer.MAX_VALUE);
        }
        if (inner % 4 != 0) {
            throw new IllegalArgumentException("inner dim " + inner
                    + " (heads x head_dim) must be a multiple of 4 for the 2-D sin-cos position table");
        }
        if (numClasses == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("num_embeds_ada_norm " + numClasses + " leaves no room for the null "
                    + "class, expected at most " + (Integer.MAX_VALUE - 1));
        }
        // the position table is one Java array of tokens x inner dim floats
        long side = sampleSize / patchSize;
        long tokens = side * side; // side < 2^31: no overflow
        if (tokens > MAX_ARRAY / inner) {
            long table = MemoryBudget.times(tokens, inner);
            throw new IllegalArgumentException("sample_size " + sampleSize + " / patch_size " + patchSize + " gives "
                    + tokens + " tokens of inner dim " + inner + ", a position table of "
                    + (table < 0 ? "more than " + Long.MAX_VALUE : Long.toString(table)) + " floats, "
                    + MemoryBudget.bytes(MemoryBudget.times(table, Float.BYTES))
                    + ", more than a Java array holds (" + MAX_ARRAY + " elements)");
        }
        if (!(normEps > 0)) {
            throw new IllegalArgumentException("norm_eps must be > 0, got " + normEps);
        }
    }

    /**
     * The parameters diffusers' {@code DiTTransformer2DModel} has under this configuration, by state-dict key in
     * registration order, with their shapes; computed, not built, so a checkpoint can be checked against it first.
     * Its size grows with {@link #numLayers()}: check {@link #parameterCount()} against memory before calling.
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long p = patchSize;
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("pos_embed.proj.weight", new long[] {d, inChannels, p, p});
        out.put("pos_embed.proj.bias", new long[] {d});
        for (int i = 0; i < numLayers; i++) {
            String b = "transformer_blocks." + i + ".";
            linear(out, b + "norm1.emb.timestep_embedder.linear_1", TimestepLabelEmbedding.FREQ_CHANNELS, d, true);
            linear(out, b + "norm1.emb.timestep_embedder.linear_2", d, d, true);
            out.put(b + "norm1.emb.class_embedder.embedding_table.weight", new long[] {numClasses + 1L, d});
            linear(out, b + "norm1.linear", d, 6 * d, true);
            linear(out, b + "attn1.to_q", d, d, attentionBias);
            linear(out, b + "attn1.to_k", d, d, attentionBias);
            linear(out, b + "attn1.to_v", d, d, attentionBias);
            linear(out, b + "attn1.to_out.0", d, d, true);
            linear(out, b + "ff.net.0.proj", d, 4 * d, true);
            linear(out, b + "ff.net.2", 4 * d, d, true);
        }
        linear(out, "proj_out_1", d, 2 * d, true);
        linear(out, "proj_out_2", d, p * p * outChannels, true);
        return out;
    }

    /**
     * The blocks as a cache sees them: {@link Block#plain} blocks (self-attention and feed-forward, image stream
     * only), each weighing its multiply-adds per token, {@code 4 d^2} for the attention projections and
     * {@code 8 d^2} for the feed-forward.
     */
    public BlockLayout blockLayout() {
        double d = innerDim();
        double cost = 12 * d * d;
        return BlockLayout.of(numLayers, i -> Block.plain(i, cost));
    }

    /**
     * Number of parameters ({@link #parameterShapes()} summed), by arithmetic.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long parameterCount() {
        try {
            long d = innerDim();
            long pp = (long) patchSize * patchSize;
            long fixed = sum(mul(d, inChannels, pp), d, mul(d + 1, 2, d), mul(d + 1, pp, outChannels));
            return sum(fixed, mul(blockParameterCount(), numLayers));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /**
     * Parameters of one transformer block (each has its own timestep and class embedding).
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long blockParameterCount() {
        try {
            long d = innerDim();
            long bias = attentionBias ? d : 0;
            return sum(
                    mul(TimestepLabelEmbedding.FREQ_CHANNELS + 1, d), mul(d + 1, d), // timestep MLP
                    mul(numClasses + 1L, d), // class table
                    mul(d + 1, 6, d), // modulation
                    mul(3, sum(mul(d, d), bias)), mul(d + 1, d), // q, k, v, out
                    mul(d + 1, 4, d), mul(4 * d + 1, d)); // feed-forward
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** Elements of the sin-cos position table at the configured sample size: tokens × inner dim. */
    public long positionTableElements() {
        long side = gridSize();
        return side * side * innerDim();
    }

    /**
     * A lower bound on the float32 elements one sample's forward holds at once at an {@code h × w} latent: the
     * latent in and out, and per token the hidden state, q, k, v, attention output, modulated input and the
     * feed-forward's 4-wide hidden layer.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long activationElements(long h, long w) {
        try {
            long pixels = mul(h, w);
            long tokens = pixels / ((long) patchSize * patchSize);
            return sum(mul(pixels, (long) inChannels + outChannels), mul(tokens, innerDim(), 10));
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
        m.put("dropout", 0.0);
        m.put("in_channels", inChannels);
        m.put("norm_elementwise_affine", false);
        m.put("norm_eps", normEps);
        m.put("norm_num_groups", 32);
        m.put("norm_type", "ada_norm_zero");
        m.put("num_attention_heads", numHeads);
        m.put("num_embeds_ada_norm", numClasses);
        m.put("num_layers", numLayers);
        m.put("out_channels", outChannels);
        m.put("patch_size", patchSize);
        m.put("sample_size", sampleSize);
        m.put("upcast_attention", false);
        return m;
    }

    /** Hidden width: heads × head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Whether the model predicts a variance beside the noise (diffusers' "learned sigma"). */
    public boolean learnedSigma() {
        return outChannels == 2L * inChannels;
    }

    /** Tokens per side at the configured sample size. */
    public int gridSize() {
        return sampleSize / patchSize;
    }




}
