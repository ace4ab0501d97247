package io.ditcache.model.dit;

import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

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
    // Grouping modules made here must stay reachable from Java: libtorch calls back into them (eval(), train()),
    // and one the garbage collector took makes that call fail with a NullPointerException.
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
        Tensor t = linear2.forward(torch.silu(linear1.forward(sinusoid(timesteps))));
        return t.add(table.forward(labels));
    }

    /** Same float32 operation order as diffusers' {@code get_timestep_embedding}. */
    static Tensor sinusoid(Tensor timesteps) {
        int half = FREQ_CHANNELS / 2;
        Tensor exponent = torch.arange(new org.bytedeco.pytorch.Scalar(0), new org.bytedeco.pytorch.Scalar(half),
                new TensorOptions(ScalarType.Float)).mul(new org.bytedeco.pytorch.Scalar(-Math.log(10000.0)));
        exponent = exponent.div(new org.bytedeco.pytorch.Scalar((double) (half - 1)));
        Tensor args = timesteps.to(ScalarType.Float).unsqueeze(1).mul(exponent.exp().unsqueeze(0));
        return torch.cat(new org.bytedeco.pytorch.TensorVector(args.cos(), args.sin()), 1);
    }
}
