package io.ditcache.model.opensora;

import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Timesteps;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Open-Sora's {@code TimestepEmbedder} (and {@code SizeEmbedder}, the fps embedder, which is the same for one
 * value per row): 256 sinusoidal features {@code [cos, sin]} with frequencies {@code 10000^(-k / 128)}, then
 * {@code mlp.0}, SiLU, {@code mlp.2}.
 */
final class TimestepEmbedder extends Module {
    private final LinearImpl first;
    private final LinearImpl second;
    /** Kept: JavaCPP holds a Java-made module weakly. */
    private final Module mlp;

    TimestepEmbedder(long hidden) {
        mlp = register_module("mlp", new Module());
        first = mlp.register_module("0", Linears.of(STDiT3Config.FREQ_CHANNELS, hidden, true));
        second = mlp.register_module("2", Linears.of(hidden, hidden, true));
    }

    /** {@code [N]} values to {@code [N, hidden]} in {@code like}'s dtype. */
    Tensor forward(Tensor t, Tensor like) {
        Tensor f = Timesteps.sinusoid(t, STDiT3Config.FREQ_CHANNELS, true, 0, 1).to(like.scalar_type().intern());
        return second.forward(torch.silu(first.forward(f)));
    }
}
