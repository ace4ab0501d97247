package io.ditcache.model.layers;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code AdaLayerNormSingle} ({@code adaln_single}), PixArt's, Latte's and STDiT's kind of one timestep MLP for all blocks: the
 * timestep's sinusoidal features (256 channels, cosines first, no frequency shift) through
 * {@code emb.timestep_embedder}; with additional conditions ({@code PixArtAlphaCombinedTimestepSizeEmbeddings})
 * the resolution's two and the aspect ratio's one sinusoidal features through {@code emb.resolution_embedder} and
 * {@code emb.aspect_ratio_embedder} ({@code inner_dim / 3} wide each) are concatenated and added. The result is
 * the embedded timestep (the final layer's conditioning); {@code linear} of its SiLU gives each block's six
 * modulation vectors.
 */
public final class AdaLayerNormSingle extends Module {
    /** Channels of the sinusoidal features of the timestep and the size conditions. */
    public static final int FREQ_CHANNELS = 256;
    /** Both outputs, per row: {@code t6 [N, 6 d]} for the blocks, {@code embedded [N, d]} for the final layer. */
    public record Conditioning(Tensor t6, Tensor embedded) {
    }

    private final boolean additional;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module emb;
    private final TimestepEmbedding timestep;
    private final TimestepEmbedding resolution;
    private final TimestepEmbedding aspectRatio;
    private final LinearImpl linear;

    /**
     * @param d                 the inner dim
     * @param additional        with PixArt's resolution and aspect-ratio embedders
     * @param sizeEmbeddingDim  their width ({@code inner_dim / 3}); unused without them
     */
    public AdaLayerNormSingle(long d, boolean additional, long sizeEmbeddingDim) {
        this.additional = additional;
        emb = register_module("emb", new Module());
        timestep = emb.register_module("timestep_embedder", new TimestepEmbedding(FREQ_CHANNELS, d));
        if (additional) {
            long s = sizeEmbeddingDim;
            resolution = emb.register_module("resolution_embedder",
                    new TimestepEmbedding(FREQ_CHANNELS, s));
            aspectRatio = emb.register_module("aspect_ratio_embedder",
                    new TimestepEmbedding(FREQ_CHANNELS, s));
        } else {
            resolution = null;
            aspectRatio = null;
        }
        linear = register_module("linear", Linears.of(d, 6 * d, true));
    }

    /**
     * @param timesteps   {@code [N]}, any numeric dtype
     * @param resolution  {@code [N, 2]} pixel height and width; only with additional conditions
     * @param aspectRatio {@code [N, 1]} height / width; only with additional conditions
     */
    public Conditioning forward(Tensor timesteps, Tensor resolution, Tensor aspectRatio) {
        ScalarType dtype = linear.weight().scalar_type().intern();
        Tensor embedded = timestep.forward(features(timesteps, dtype));
        if (additional) {
            long n = timesteps.size(0);
            Tensor res = this.resolution.forward(features(resolution.flatten(), dtype)).reshape(n, -1);
            Tensor ar = this.aspectRatio.forward(features(aspectRatio.flatten(), dtype)).reshape(n, -1);
            embedded = embedded.add(torch.cat(new TensorVector(res, ar), 1));
        }
        return new Conditioning(linear.forward(torch.silu(embedded)), embedded);
    }

    public boolean additionalConditions() {
        return additional;
    }

    /** Sinusoidal features, computed in float32, in {@code dtype}. */
    private static Tensor features(Tensor t, ScalarType dtype) {
        return Timesteps.sinusoid(t, FREQ_CHANNELS, true, 0, 1).to(dtype);
    }
}
