package io.ditcache.model.dit;

import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Timesteps;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code CombinedTimestepLabelEmbeddings}: sinusoidal timestep features (256 channels,
 * {@code flip_sin_to_cos=True}, {@code downscale_freq_shift=1}) through a two-layer SiLU MLP, plus a learned
 * class embedding whose last row is the null class used for classifier-free guidance.
 */
final class TimestepLabelEmbedding extends Module {
    static final int FREQ_CHANNELS = 256;
    private final LinearImpl linear1;
    private final LinearImpl linear2;
    private final EmbeddingImpl table;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module timestep;
    private final Module classes;

    TimestepLabelEmbedding(DiTConfig c) {
        int d = c.innerDim();
        timestep = register_module("timestep_embedder", new Module());
        linear1 = timestep.register_module("linear_1", Linears.of(FREQ_CHANNELS, d, true));
        linear2 = timestep.register_module("linear_2", Linears.of(d, d, true));
        classes = register_module("class_embedder", new Module());
        table = classes.register_module("embedding_table", new EmbeddingImpl(c.numClasses() + 1, d));
    }

    /** {@code [N]} timesteps and {@code [N]} int64 labels to the {@code [N, D]} conditioning. */
    Tensor forward(Tensor timesteps, Tensor labels) {
        Tensor t = linear2.forward(torch.silu(linear1.forward(sinusoid(timesteps).to(
                linear1.weight().scalar_type().intern()))));
        return t.add(table.forward(labels));
    }

    /** diffusers' {@code Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=1)}. */
    static Tensor sinusoid(Tensor timesteps) {
        return Timesteps.sinusoid(timesteps, FREQ_CHANNELS, true, 1, 1);
    }
}
