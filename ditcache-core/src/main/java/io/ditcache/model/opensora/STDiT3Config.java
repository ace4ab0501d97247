package io.ditcache.model.opensora;

import static io.ditcache.model.layers.ShapeArithmetic.linear;
import static io.ditcache.model.layers.ShapeArithmetic.mul;
import static io.ditcache.model.layers.ShapeArithmetic.positive;
import static io.ditcache.model.layers.ShapeArithmetic.sum;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configuration of Open-Sora 1.2's {@code STDiT3} (hpcaitech/Open-Sora, {@code opensora/models/stdit/stdit3.py},
 * {@code STDiT3Config}), with the field names of that code. There is no diffusers class: ditcache reads a
 * {@code config.json} with {@code "_class_name": "STDiT3"} and these keys ({@link #diffusersConfig()}).
 *
 * @param inputSize         default latent {@code [F, H, W]} ({@code input_size}; Open-Sora leaves it
 *                          {@code (None, None, None)}, then {@link #DEFAULT_INPUT_SIZE})
 * @param inputSqSize       the square side in pixels the position table's scale is relative to ({@code input_sq_size})
 * @param inChannels        latent channels
 * @param patchSize         patch {@code [t, h, w]}
 * @param hiddenSize        hidden width
 * @param depth             spatial blocks, and as many temporal blocks
 * @param numHeads          attention heads
 * @param mlpRatio          the MLP's hidden width over the hidden width
 * @param predSigma         whether the output carries learned-sigma channels (twice {@code in_channels})
 * @param captionChannels   the text encoder's width (T5-XXL: 4096)
 * @param modelMaxLength    caption tokens of the null embedding {@code y_embedder.y_embedding}
 * @param qkNorm            LlamaRMSNorm (eps 1e-6) on the heads of q and k in the self-attentions
 * @param classDropoutProb  caption dropout of training, recorded only
 */
public record STDiT3Config(long[] inputSize, int inputSqSize, int inChannels, int[] patchSize, int hiddenSize,
        int depth, int numHeads, double mlpRatio, boolean predSigma, int captionChannels, int modelMaxLength,
        boolean qkNorm, double classDropoutProb) {

    /** The {@code _class_name} of STDiT3's config.json in ditcache. */
    public static final String CLASS_NAME = "STDiT3";
    /** Channels of the sinusoidal timestep and fps features ({@code frequency_embedding_size}). */
    public static final int FREQ_CHANNELS = 256;
    /**
     * The latent {@code [F, H, W]} used when {@code input_size} is not set: Open-Sora 1.2's sample config, 51
     * frames (15 latent frames) at 240p, rounded to a square 32 x 32 latent.
     */
    static final long[] DEFAULT_INPUT_SIZE = {15, 32, 32};

    public STDiT3Config {
        positive("input_sq_size", inputSqSize);
        positive("in_channels", inChannels);
        positive("hidden_size", hiddenSize);
        positive("depth", depth);
        positive("num_heads", numHeads);
        positive("caption_channels", captionChannels);
        positive("model_max_length", modelMaxLength);
        if (patchSize == null || patchSize.length != 3) {
            throw new IllegalArgumentException("patch_size is " + Arrays.toString(patchSize)
                    + ", expected [t, h, w]");
        }
        patchSize = patchSize.clone();
        for (int p : patchSize) {
            positive("patch_size", p);
        }
        inputSize = inputSize == null ? DEFAULT_INPUT_SIZE.clone() : inputSize.clone();
        if (inputSize.length != 3) {
            throw new IllegalArgumentException("input_size is " + Arrays.toString(inputSize) + ", expected [F, H, W]");
        }
        for (int i = 0; i < 3; i++) {
            if (inputSize[i] < 1 || inputSize[i] % patchSize[i] != 0) {
                throw new IllegalArgumentException("input_size is " + Arrays.toString(inputSize)
                        + ", expected positive multiples of patch_size " + Arrays.toString(patchSize));
            }
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_heads "
                    + numHeads);
        }
        if (hiddenSize % 4 != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " must be a multiple of 4 for the 2-D "
                    + "sin-cos position embedding");
        }
        if ((hiddenSize / numHeads) % 2 != 0) {
            throw new IllegalArgumentException("head dim " + hiddenSize / numHeads + " (hidden_size / num_heads) "
                    + "must be even for the temporal rotary embedding");
        }
        if (hiddenSize > Integer.MAX_VALUE / 6) {
            throw new IllegalArgumentException("hidden_size is " + hiddenSize + ", expected at most "
                    + Integer.MAX_VALUE / 6);
        }
        if (!(mlpRatio > 0) || !Double.isFinite(mlpRatio) || (long) (hiddenSize * mlpRatio) < 1
                || hiddenSize * mlpRatio > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("mlp_ratio is " + mlpRatio + ", expected a finite number > 0 giving "
                    + "an MLP width of at least 1");
        }
    }

    /** STDiT3-XL/2 as Open-Sora 1.2 registers it ({@code STDiT3_XL_2}) with the 1.2 sample config's qk_norm. */
    public static STDiT3Config xl2() {
        return new STDiT3Config(null, 512, 4, new int[] {1, 2, 2}, 1152, 28, 16, 4.0, true, 4096, 300, true, 0.1);
    }

    /** Channels per head. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** The MLP's hidden width, {@code int(hidden_size * mlp_ratio)}. */
    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** Output channels: {@code in_channels}, twice that with {@code pred_sigma}. */
    public int outChannels() {
        return predSigma ? 2 * inChannels : inChannels;
    }

    /** Latent elements per patch, {@code prod(patch_size)}. */
    public int patchVolume() {
        return patchSize[0] * patchSize[1] * patchSize[2];
    }

    @Override
    public long[] inputSize() {
        return inputSize.clone();
    }

    @Override
    public int[] patchSize() {
        return patchSize.clone();
    }

    /** Profile layers: {@code 2 * depth} (spatial block i is layer 2i, temporal block i is 2i + 1). */
    public int layers() {
        return 2 * depth;
    }

    /**
     * The parameters of Open-Sora's {@code STDiT3} module under this configuration, by state-dict key in its
     * registration order ({@code named_parameters()}: a module's own parameters before its children's), with
     * their shapes; computed, not built. The persistent buffer {@code y_embedder.y_embedding} is not a parameter:
     * see {@link #stateShapes()}.
     */
    public Map<String, long[]> parameterShapes() {
        long d = hiddenSize;
        Map<String, long[]> out = new LinkedHashMap<>();
        // pos_embed has only a non-persistent buffer; rope (rotary_embedding_torch) holds its freqs as a parameter
        out.put("rope.freqs", new long[] {headDim() / 2});
        out.put("x_embedder.proj.weight", new long[] {d, inChannels, patchSize[0], patchSize[1], patchSize[2]});
        out.put("x_embedder.proj.bias", new long[] {d});
        linear(out, "t_embedder.mlp.0", FREQ_CHANNELS, d);
        linear(out, "t_embedder.mlp.2", d, d);
        linear(out, "fps_embedder.mlp.0", FREQ_CHANNELS, d);
        linear(out, "fps_embedder.mlp.2", d, d);
        linear(out, "t_block.1", d, 6 * d);
        linear(out, "y_embedder.y_proj.fc1", captionChannels, d);
        linear(out, "y_embedder.y_proj.fc2", d, d);
        for (String list : new String[] {"spatial_blocks.", "temporal_blocks."}) {
            for (int i = 0; i < depth; i++) {
                block(out, list + i + ".");
            }
        }
        out.put("final_layer.scale_shift_table", new long[] {2, d});
        linear(out, "final_layer.linear", d, (long) patchVolume() * outChannels());
        return out;
    }

    /** {@link #parameterShapes()} and the stored buffer {@code y_embedder.y_embedding}: a checkpoint's keys. */
    public Map<String, long[]> stateShapes() {
        Map<String, long[]> out = parameterShapes();
        out.put(STDiT3Model.Y_EMBEDDING, new long[] {modelMaxLength, captionChannels});
        return out;
    }

    private void block(Map<String, long[]> out, String b) {
        long d = hiddenSize;
        out.put(b + "scale_shift_table", new long[] {6, d});
        linear(out, b + "attn.qkv", d, 3 * d);
        if (qkNorm) {
            out.put(b + "attn.q_norm.weight", new long[] {headDim()});
            out.put(b + "attn.k_norm.weight", new long[] {headDim()});
        }
        linear(out, b + "attn.proj", d, d);
        linear(out, b + "cross_attn.q_linear", d, d);
        linear(out, b + "cross_attn.kv_linear", d, 2 * d);
        linear(out, b + "cross_attn.proj", d, d);
        linear(out, b + "mlp.fc1", d, mlpHidden());
        linear(out, b + "mlp.fc2", mlpHidden(), d);
    }

    /**
     * Number of parameters (the sum of numel over {@code named_parameters()}), by arithmetic.
     *
     * @return the count, or -1 when it exceeds a long
     */
    public long parameterCount() {
        try {
            long d = hiddenSize;
            long fixed = sum(headDim() / 2, mul(d, inChannels, patchVolume()), d, // rope, x_embedder
                    mul(2, sum(mul(FREQ_CHANNELS + 1, d), mul(d + 1, d))), // t_embedder, fps_embedder
                    mul(d + 1, 6, d), // t_block
                    mul(captionChannels + 1L, d), mul(d + 1, d), // y_embedder.y_proj
                    mul(2, d), mul(d + 1, patchVolume(), outChannels())); // final_layer
            return sum(fixed, mul(2, depth, blockParameterCount()));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** Parameters of one STDiT3Block (spatial and temporal blocks have the same). */
    public long blockParameterCount() {
        long d = hiddenSize;
        long m = mlpHidden();
        return sum(mul(6, d), mul(d + 1, 3, d), qkNorm ? 2L * headDim() : 0, mul(d + 1, d), // attn
                mul(d + 1, d), mul(d + 1, 2, d), mul(d + 1, d), // cross_attn
                mul(d + 1, m), mul(m + 1, d)); // mlp
    }

    /**
     * The blocks in execution order: spatial block i is layer 2i ({@link BlockGroup#SPATIAL}), temporal block i
     * is layer 2i + 1 ({@link BlockGroup#TEMPORAL}), each with self-attention, cross-attention and feed-forward.
     * Each weighs its multiply-adds per video token from the shapes: {@code 4 d^2} for qkv and proj,
     * {@code 2 d^2} for the cross-attention's query and output projections, {@code 2 d m} for the MLP (the
     * caption's keys and values are per caption token and left out).
     */
    public BlockLayout blockLayout() {
        double d = hiddenSize;
        double cost = 6 * d * d + 2 * d * mlpHidden();
        EnumSet<BlockPart> parts = EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                BlockPart.FEED_FORWARD);
        return BlockLayout.of(layers(), i -> new Block(i, i % 2 == 0 ? BlockGroup.SPATIAL : BlockGroup.TEMPORAL,
                parts, false, true, cost));
    }

    /** The config.json of this configuration (Open-Sora's STDiT3Config field names), in key order. */
    public Map<String, Object> diffusersConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("input_size", Arrays.stream(inputSize).boxed().toList());
        m.put("input_sq_size", inputSqSize);
        m.put("in_channels", inChannels);
        m.put("patch_size", Arrays.stream(patchSize).boxed().toList());
        m.put("hidden_size", hiddenSize);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("class_dropout_prob", classDropoutProb);
        m.put("pred_sigma", predSigma);
        m.put("drop_path", 0.0);
        m.put("caption_channels", captionChannels);
        m.put("model_max_length", modelMaxLength);
        m.put("qk_norm", qkNorm);
        m.put("skip_y_embedder", false);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof STDiT3Config c && Arrays.equals(inputSize, c.inputSize) && inputSqSize == c.inputSqSize
                && inChannels == c.inChannels && Arrays.equals(patchSize, c.patchSize) && hiddenSize == c.hiddenSize
                && depth == c.depth && numHeads == c.numHeads && mlpRatio == c.mlpRatio && predSigma == c.predSigma
                && captionChannels == c.captionChannels && modelMaxLength == c.modelMaxLength && qkNorm == c.qkNorm
                && classDropoutProb == c.classDropoutProb;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputSize) * 31 + Arrays.hashCode(patchSize) * 17 + hiddenSize * 7 + depth;
    }

    @Override
    public String toString() {
        return CLASS_NAME + diffusersConfig();
    }
}
