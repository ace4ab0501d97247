package io.ditcache.model.dit;

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
        if ((numHeads * headDim) % 4 != 0) {
            throw new IllegalArgumentException("inner dim " + numHeads * headDim
                    + " (heads x head_dim) must be a multiple of 4 for the 2-D sin-cos position table");
        }
        if (!(normEps > 0)) {
            throw new IllegalArgumentException("norm_eps must be > 0, got " + normEps);
        }
    }

    /** Hidden width: heads × head dim. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Whether the model predicts a variance beside the noise (diffusers' "learned sigma"). */
    public boolean learnedSigma() {
        return outChannels == 2 * inChannels;
    }

    /** Tokens per side at the configured sample size. */
    public int gridSize() {
        return sampleSize / patchSize;
    }

    private static void positive(String key, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(key + " must be >= 1, got " + v);
        }
    }
}
