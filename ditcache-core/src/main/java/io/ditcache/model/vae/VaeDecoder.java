package io.ditcache.model.vae;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' VAE {@code Decoder}: {@code conv_in} from the latent channels to the innermost width; the mid block;
 * per width of {@code block_out_channels} reversed an {@code UpDecoderBlock2D} of {@code layers_per_block + 1}
 * resnets and, but for the last, an {@code Upsample2D} (nearest x2, then a 3x3 convolution);
 * {@code conv_norm_out}, SiLU and {@code conv_out}.
 */
final class VaeDecoder extends Module {
    private final Conv convIn;
    private final List<List<ResnetBlock>> resnets = new ArrayList<>();
    private final List<Conv> upsamplers = new ArrayList<>();
    private final MidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv convOut;

    VaeDecoder(VaeConfig c) {
        long groups = c.normNumGroups();
        List<Integer> widths = c.blockOutChannels();
        long channels = c.innerChannels();
        convIn = register_module("conv_in", new Conv(c.latentChannels(), channels, 3));
        // registration order is diffusers': up_blocks (an empty list at first), then mid_block
        Module upBlocks = register_module("up_blocks", new Module());
        midBlock = register_module("mid_block", new MidBlock(groups, channels, c.midBlockAttention()));
        for (int i = 0; i < c.blocks(); i++) {
            long width = widths.get(c.blocks() - 1 - i);
            Module block = upBlocks.register_module(Integer.toString(i), new Module());
            Module list = block.register_module("resnets", new Module());
            List<ResnetBlock> own = new ArrayList<>();
            for (int j = 0; j <= c.layersPerBlock(); j++) {
                own.add(list.register_module(Integer.toString(j),
                        new ResnetBlock(groups, j == 0 ? channels : width, width)));
            }
            resnets.add(own);
            if (i < c.blocks() - 1) {
                upsamplers.add(block.register_module("upsamplers", new Module()).register_module("0",
                        new Module()).register_module("conv", new Conv(width, width, 3)));
            }
            channels = width;
        }
        convNormOut = register_module("conv_norm_out", new GroupNorm(groups, channels));
        convOut = register_module("conv_out", new Conv(channels, c.outChannels(), 3));
    }

    /** Latents {@code [N, latent, h, w]} (already unscaled; left to the caller) to images {@code [N, C, hf, wf]}. */
    Tensor forward(Tensor z) {
        Tensor h = convIn.forward(z);
        h = VaeEncoder.replace(h, midBlock.forward(h));
        for (int i = 0; i < resnets.size(); i++) {
            for (ResnetBlock r : resnets.get(i)) {
                h = VaeEncoder.replace(h, r.forward(h));
            }
            if (i < upsamplers.size()) {
                Tensor larger = torch.upsample_nearest2d(h, h.size(2) * 2, h.size(3) * 2);
                h.close();
                h = VaeEncoder.replace(larger, upsamplers.get(i).forward(larger));
            }
        }
        Tensor normed = convNormOut.forwardSilu(h);
        h.close();
        return VaeEncoder.replace(normed, convOut.forward(normed));
    }
}
