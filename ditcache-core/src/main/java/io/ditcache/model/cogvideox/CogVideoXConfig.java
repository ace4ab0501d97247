package io.ditcache.model.cogvideox;

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
 * Configuration of diffusers' {@code CogVideoXTransformer3DModel} (CogVideoX 1.0 and, with {@code patch_size_t},
 * 1.5), under diffusers' names. Fixed by this port (refused otherwise by {@link CogVideoXFamily#config}):
 * {@code activation_fn} gelu-approximate, {@code timestep_activation_fn} silu, {@code norm_elementwise_affine}
 * true, no {@code ofs_embed_dim}, no learned positional embeddings.
 *
 * @param numHeads                   attention heads
 * @param headDim                    channels per head
 * @param inChannels                 latent channels
 * @param outChannels                output channels
 * @param flipSinToCos               the timestep projection's cos-first order
 * @param freqShift                  the timestep projection's {@code downscale_freq_shift}
 * @param timeEmbedDim               width of the timestep embedding that modulates every norm
 * @param textEmbedDim               width of the text encoder's tokens
 * @param numLayers                  transformer blocks
 * @param attentionBias              whether to_q/to_k/to_v have a bias
 * @param sampleWidth                default latent width
 * @param sampleHeight               default latent height
 * @param sampleFrames               default frames before temporal compression ({@code (F - 1) * 4 + 1})
 * @param patchSize                  spatial patch edge
 * @param patchSizeT                 temporal patch length (1.5), 0 when absent (1.0: one frame per patch)
 * @param temporalCompressionRatio   the VAE's temporal compression
 * @param maxTextSeqLength           text tokens the model takes (the joint position table's text rows)
 * @param normEps                    eps of the block and final LayerNorms
 * @param spatialInterpolationScale  divisor of the sin-cos table's spatial positions
 * @param temporalInterpolationScale divisor of the sin-cos table's temporal positions
 * @param rope                       {@code use_rotary_positional_embeddings}: RoPE instead of the sin-cos table
 * @param patchBias                  whether the (1.0) patch convolution has a bias
 */
public record CogVideoXConfig(int numHeads, int headDim, int inChannels, int outChannels, boolean flipSinToCos,
        int freqShift, int timeEmbedDim, int textEmbedDim, int numLayers, boolean attentionBias, int sampleWidth,
        int sampleHeight, int sampleFrames, int patchSize, int patchSizeT, int temporalCompressionRatio,
        int maxTextSeqLength, double normEps, double spatialInterpolationScale, double temporalInterpolationScale,
        boolean rope, boolean patchBias) {
    /** The diffusers class name of this layout. */
    public static final String CLASS_NAME = "CogVideoXTransformer3DModel";
    /** Width of the feed-forward hidden layer, in inner dims. */
    static final int FF_MULT = 4;
    /** eps of the per-head q/k LayerNorms. */
    static final double QK_EPS = 1e-6;

    public CogVideoXConfig {
        positive("num_attention_heads", numHeads);
        positive("attention_head_dim", headDim);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("time_embed_dim", timeEmbedDim);
        positive("text_embed_dim", textEmbedDim);
        positive("num_layers", numLayers);
        positive("sample_width", sampleWidth);
        positive("sample_height", sampleHeight);
        positive("sample_frames", sampleFrames);
        positive("patch_size", patchSize);
        positive("temporal_compression_ratio", temporalCompressionRatio);
        positive("max_text_seq_length", maxTextSeqLength);
        if (patchSizeT < 0) {
            throw new IllegalArgumentException("patch_size_t is " + patchSizeT + ", expected null or >= 1");
        }
        long inner = (long) numHeads * headDim;
        if (inner > Integer.MAX_VALUE / (2L * FF_MULT + 1)) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " x attention_head_dim " + headDim
                    + " = " + inner + " is too large an inner dim");
        }
        if (!rope && ((3 * inner / 4) % 4 != 0 || inner % 4 != 0 || (inner / 4) % 2 != 0)) {
            throw new IllegalArgumentException("inner dim " + inner + " cannot be split into the 3-D sin-cos table's "
                    + "channels [t: D/4 | w: 3D/8 | h: 3D/8] (each even), expected a multiple of 16");
        }
        if (rope && headDim % 16 != 0) {
            throw new IllegalArgumentException("attention_head_dim is " + headDim + ", expected a multiple of 16 with "
                    + "use_rotary_positional_embeddings (the 3-D RoPE takes D/4 + 3D/8 + 3D/8 channels of each head)");
        }
        if (patchSizeT > 0 && !rope) {
            throw new IllegalArgumentException("patch_size_t is " + patchSizeT + " but use_rotary_positional_embeddings"
                    + " is false: diffusers' sin-cos table counts frames, not temporal patches; expected RoPE");
        }
        if (!(normEps > 0) || !(spatialInterpolationScale > 0) || !(temporalInterpolationScale > 0)) {
            throw new IllegalArgumentException("norm_eps " + normEps + ", spatial_interpolation_scale "
                    + spatialInterpolationScale + ", temporal_interpolation_scale " + temporalInterpolationScale
                    + ": expected each > 0");
        }
    }

    /** Hidden width: heads x head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Whether this is a 1.5 layout (temporal patches, a Linear patch embedding). */
    public boolean temporalPatches() {
        return patchSizeT > 0;
    }

    /** Frames per patch: {@code patch_size_t}, or 1. */
    public int framesPerPatch() {
        return Math.max(1, patchSizeT);
    }

    /** Latent frames at the config's {@code sample_frames}: {@code (sample_frames - 1) / ratio + 1}. */
    public int defaultLatentFrames() {
        return (sampleFrames - 1) / temporalCompressionRatio + 1;
    }

    /** Inputs of the patch embedding per token: {@code C p p} (1.0) or {@code C pt p p} (1.5). */
    long patchFeatures() {
        return (long) inChannels * framesPerPatch() * patchSize * patchSize;
    }

    /** Outputs of {@code proj_out} per token: channels {@code (c, [pt,] ph, pw)}. */
    long projOutFeatures() {
        return (long) outChannels * framesPerPatch() * patchSize * patchSize;
    }

    /**
     * The parameters diffusers' model has under this configuration ({@code named_parameters()}), by key in
     * registration order, with their shapes: computed, not built. (The sin-cos table is a non-persistent buffer.)
     */
    public Map<String, long[]> parameterShapes() {
        long d = innerDim();
        long p = patchSize;
        long ted = timeEmbedDim;
        Map<String, long[]> out = new LinkedHashMap<>();
        if (temporalPatches()) {
            linear(out, "patch_embed.proj", patchFeatures(), d);
        } else {
            out.put("patch_embed.proj.weight", new long[] {d, inChannels, p, p});
            if (patchBias) {
                out.put("patch_embed.proj.bias", new long[] {d});
            }
        }
        linear(out, "patch_embed.text_proj", textEmbedDim, d);
        linear(out, "time_embedding.linear_1", d, ted);
        linear(out, "time_embedding.linear_2", ted, ted);
        for (int i = 0; i < numLayers; i++) {
            String b = "transformer_blocks." + i + ".";
            layerNormZero(out, b + "norm1.");
            out.put(b + "attn1.norm_q.weight", new long[] {headDim});
            out.put(b + "attn1.norm_q.bias", new long[] {headDim});
            out.put(b + "attn1.norm_k.weight", new long[] {headDim});
            out.put(b + "attn1.norm_k.bias", new long[] {headDim});
            linear(out, b + "attn1.to_q", d, d, attentionBias);
            linear(out, b + "attn1.to_k", d, d, attentionBias);
            linear(out, b + "attn1.to_v", d, d, attentionBias);
            linear(out, b + "attn1.to_out.0", d, d);
            layerNormZero(out, b + "norm2.");
            linear(out, b + "ff.net.0.proj", d, FF_MULT * d);
            linear(out, b + "ff.net.2", FF_MULT * d, d);
        }
        out.put("norm_final.weight", new long[] {d});
        out.put("norm_final.bias", new long[] {d});
        linear(out, "norm_out.linear", ted, 2 * d);
        out.put("norm_out.norm.weight", new long[] {d});
        out.put("norm_out.norm.bias", new long[] {d});
        linear(out, "proj_out", d, projOutFeatures());
        return out;
    }

    private void layerNormZero(Map<String, long[]> out, String prefix) {
        long d = innerDim();
        linear(out, prefix + "linear", timeEmbedDim, 6 * d);
        out.put(prefix + "norm.weight", new long[] {d});
        out.put(prefix + "norm.bias", new long[] {d});
    }

    /**
     * Number of parameters (diffusers' {@code num_parameters()}), by arithmetic, without listing the keys.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long parameterCount() {
        try {
            long d = innerDim();
            long ted = timeEmbedDim;
            long patch = temporalPatches() ? linearCount(patchFeatures(), d)
                    : sum(mul(d, inChannels, patchSize, patchSize), patchBias ? d : 0);
            long fixed = sum(patch, linearCount(textEmbedDim, d), linearCount(d, ted), linearCount(ted, ted),
                    2 * d, linearCount(ted, 2 * d), 2 * d, linearCount(d, projOutFeatures()));
            long norm = sum(linearCount(ted, 6 * d), 2 * d);
            long qkv = sum(mul(d, d), attentionBias ? d : 0);
            long block = sum(norm, 4L * headDim, mul(3, qkv), linearCount(d, d), norm,
                    linearCount(d, FF_MULT * d), linearCount(FF_MULT * d, d));
            return sum(fixed, mul(numLayers, block));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    private static long linearCount(long in, long out) {
        return sum(mul(in, out), out);
    }

    /**
     * The blocks as a cache sees them: one list of {@link BlockGroup#PLAIN} blocks that carry the text stream as
     * their context ({@link Block#context()}: a video and a text residual). Reusable parts, each exact on its own
     * because attention queries and feed-forward rows are independent per token: the video rows of the joint
     * attention ({@link BlockPart#SELF_ATTENTION}), its text rows ({@link BlockPart#CONTEXT_ATTENTION}), and the
     * video and text rows of the one feed-forward that diffusers runs over {@code [text; video]}
     * ({@link BlockPart#FEED_FORWARD}, {@link BlockPart#CONTEXT_FEED_FORWARD}): reusing one computes the other's
     * rows alone. A block's cost is the weight elements its tokens multiply with: {@code 4 d^2} attention and
     * {@code 8 d^2} feed-forward, for the video and the text token of a pair alike.
     */
    public BlockLayout blockLayout() {
        List<Block> blocks = new ArrayList<>(numLayers);
        double d = innerDim();
        double cost = 2 * (4 * d * d + 2 * FF_MULT * d * d);
        for (int i = 0; i < numLayers; i++) {
            blocks.add(new Block(i, BlockGroup.PLAIN, EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION,
                    BlockPart.FEED_FORWARD, BlockPart.CONTEXT_FEED_FORWARD), true, true, cost));
        }
        return new BlockLayout(blocks);
    }

    /**
     * A lower bound on the float32 elements one sample's forward holds at once with {@code videoTokens} video
     * and {@code textTokens} text tokens, {@code latentElements} latent elements in and out.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long activationElements(long latentElements, long videoTokens, long textTokens) {
        try {
            long tokens = Math.addExact(videoTokens, textTokens);
            long perToken = Math.multiplyExact(tokens, (long) innerDim() * (6 + FF_MULT));
            return Math.addExact(Math.addExact(Math.multiplyExact(latentElements, 2), perToken),
                    Math.multiplyExact(tokens, tokens));
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
        m.put("flip_sin_to_cos", flipSinToCos);
        m.put("freq_shift", freqShift);
        m.put("in_channels", inChannels);
        m.put("max_text_seq_length", maxTextSeqLength);
        m.put("norm_elementwise_affine", true);
        m.put("norm_eps", normEps);
        m.put("num_attention_heads", numHeads);
        m.put("num_layers", numLayers);
        m.put("ofs_embed_dim", null);
        m.put("out_channels", outChannels);
        m.put("patch_bias", patchBias);
        m.put("patch_size", patchSize);
        m.put("patch_size_t", temporalPatches() ? patchSizeT : null);
        m.put("sample_frames", sampleFrames);
        m.put("sample_height", sampleHeight);
        m.put("sample_width", sampleWidth);
        m.put("spatial_interpolation_scale", spatialInterpolationScale);
        m.put("temporal_compression_ratio", temporalCompressionRatio);
        m.put("temporal_interpolation_scale", temporalInterpolationScale);
        m.put("text_embed_dim", textEmbedDim);
        m.put("time_embed_dim", timeEmbedDim);
        m.put("timestep_activation_fn", "silu");
        m.put("use_learned_positional_embeddings", false);
        m.put("use_rotary_positional_embeddings", rope);
        return m;
    }
}
