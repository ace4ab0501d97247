package io.ditcache.model.latte;

import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.TimestepEmbedding;
import io.ditcache.model.layers.Timesteps;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code AdaLayerNormSingle} ({@code adaln_single}) as Latte builds it, without additional conditions:
 * the timestep's sinusoidal features (256 channels, cosines first, no frequency shift) through
 * {@code emb.timestep_embedder} give the embedded timestep (the final layer's conditioning); {@code linear} of its
 * SiLU gives the six modulation vectors that every spatial and temporal block shares.
 */
final class LatteAdaLayerNormSingle extends Module {
    /** Both outputs, per sample: {@code t6 [B, 6 d]} for the blocks, {@code embedded [B, d]} for the final layer. */
    record Conditioning(Tensor t6, Tensor embedded) {
    }

    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module emb;
    private final TimestepEmbedding timestep;
    private final LinearImpl linear;

    LatteAdaLayerNormSingle(LatteConfig c) {
        long d = c.innerDim();
        emb = register_module("emb", new Module());
        timestep = emb.register_module("timestep_embedder", new TimestepEmbedding(LatteConfig.FREQ_CHANNELS, d));
        linear = register_module("linear", Linears.of(d, 6 * d, true));
    }

    /** @param timesteps {@code [B]}, any numeric dtype */
    Conditioning forward(Tensor timesteps) {
        ScalarType dtype = linear.weight().scalar_type().intern();
        Tensor features = Timesteps.sinusoid(timesteps, LatteConfig.FREQ_CHANNELS, true, 0, 1).to(dtype);
        Tensor embedded = timestep.forward(features);
        return new Conditioning(linear.forward(torch.silu(embedded)), embedded);
    }
}
