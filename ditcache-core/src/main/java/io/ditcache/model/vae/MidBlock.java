package io.ditcache.model.vae;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** diffusers' {@code UNetMidBlock2D} as the VAE builds it: a resnet, the attention (if the config has it), a resnet. */
final class MidBlock extends Module {
    private final MidBlockAttention attention;
    private final ResnetBlock first;
    private final ResnetBlock second;

    MidBlock(long groups, long channels, boolean withAttention) {
        // registration order is diffusers': attentions, then resnets
        attention = withAttention
                ? register_module("attentions", new Module()).register_module("0",
                        new MidBlockAttention(groups, channels))
                : null;
        Module resnets = register_module("resnets", new Module());
        first = resnets.register_module("0", new ResnetBlock(groups, channels, channels));
        second = resnets.register_module("1", new ResnetBlock(groups, channels, channels));
    }

    /** The block on {@code x} (left to the caller); returns a new tensor. */
    Tensor forward(Tensor x) {
        Tensor h = first.forward(x);
        if (attention != null) {
            Tensor a = attention.forward(h);
            h.close();
            h = a;
        }
        Tensor out = second.forward(h);
        h.close();
        return out;
    }
}
