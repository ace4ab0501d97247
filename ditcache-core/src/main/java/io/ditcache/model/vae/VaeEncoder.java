package io.ditcache.model.vae;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' VAE {@code Encoder}: {@code conv_in}; per width of {@code block_out_channels} a
 * {@code DownEncoderBlock2D} of {@code layers_per_block} resnets and, but for the last, a {@code Downsample2D}
 * (zero pad right and bottom by one, then a 3x3 stride-2 convolution without padding); the mid block;
 * {@code conv_norm_out}, SiLU and {@code conv_out} to {@code 2 * latent_channels} (mean, then log-variance).
 */
final class VaeEncoder extends Module {
    private final Conv convIn;
    private final List<List<ResnetBlock>> resnets = new ArrayList<>();
    private final List<Conv> downsamplers = new ArrayList<>();
    private final MidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv convOut;

    VaeEncoder(VaeConfig c) {
        long groups = c.normNumGroups();
        List<Integer> widths = c.blockOutChannels();
        convIn = register_module("conv_in", new Conv(c.inChannels(), widths.get(0), 3));
        Module downBlocks = register_module("down_blocks", new Module());
        long channels = widths.get(0);
        for (int i = 0; i < c.blocks(); i++) {
            long width = widths.get(i);
            Module block = downBlocks.register_module(Integer.toString(i), new Module());
            Module list = block.register_module("resnets", new Module());
            List<ResnetBlock> own = new ArrayList<>();
            for (int j = 0; j < c.layersPerBlock(); j++) {
                own.add(list.register_module(Integer.toString(j),
                        new ResnetBlock(groups, j == 0 ? channels : width, width)));
            }
            resnets.add(own);
            if (i < c.blocks() - 1) {
                downsamplers.add(block.register_module("downsamplers", new Module()).register_module("0",
                        new Module()).register_module("conv", new Conv(width, width, 3, 2, 0)));
            }
            channels = width;
        }
        midBlock = register_module("mid_block", new MidBlock(groups, channels, c.midBlockAttention()));
        convNormOut = register_module("conv_norm_out", new GroupNorm(groups, channels));
        convOut = register_module("conv_out", new Conv(channels, 2L * c.latentChannels(), 3));
    }

    /** Images {@code [N, C, H, W]} (left to the caller) to moments {@code [N, 2 * latent, H / f, W / f]}. */
    Tensor forward(Tensor x) {
        Tensor h = convIn.forward(x);
        for (int i = 0; i < resnets.size(); i++) {
            for (ResnetBlock r : resnets.get(i)) {
                h = replace(h, r.forward(h));
            }
            if (i < downsamplers.size()) {
                Tensor padded = torch.constant_pad_nd(h, 0, 1, 0, 1); // right and bottom only, as diffusers pads
                h.close();
                h = replace(padded, downsamplers.get(i).forward(padded));
            }
        }
        h = replace(h, midBlock.forward(h));
        Tensor normed = convNormOut.forwardSilu(h);
        h.close();
        return replace(normed, convOut.forward(normed));
    }

    /** Frees {@code old} and returns {@code next}. */
    static Tensor replace(Tensor old, Tensor next) {
        old.close();
        return next;
    }
}
