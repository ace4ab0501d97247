package io.ditcache.model.vae;

import static io.ditcache.model.layers.HeaderChecks.agree;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.shape;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;

/**
 * Checks a VAE configuration against the checkpoint it comes with and against memory before anything is built: the
 * number of blocks and of resnets per block, the channels the outer convolutions record, and whether the optional
 * modules are present, each refused naming the config key, the tensor and both values, rather than reported later
 * as a list of missing keys.
 */
final class VaeLayoutCheck {
    private VaeLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(VaeConfig c, String configSource, Checkpoint ckpt, ComputeType type, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        long count = new VaeDescription(VaeConfig.CLASS_NAME, c.parameterShapes()).parameterCount();
        long bytes = MemoryBudget.times(count, type == ComputeType.FLOAT32 ? Float.BYTES : 2);
        String shortfall = budget.shortfall(0, bytes);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "block_out_channels " + c.blockOutChannels() + " make "
                    + count + " parameters, " + MemoryBudget.bytes(bytes) + " in " + type.label() + ": loading "
                    + shortfall);
        }
        blockCount(prefix, "the length of block_out_channels " + c.blockOutChannels(), c.blocks(),
                "encoder.down_blocks.", ckpt);
        blockCount(prefix, "the length of block_out_channels " + c.blockOutChannels(), c.blocks(),
                "decoder.up_blocks.", ckpt);
        blockCount(prefix, "layers_per_block", c.layersPerBlock(), "encoder.down_blocks.0.resnets.", ckpt);
        long c0 = c.blockOutChannels().get(0);
        long inner = c.innerChannels();
        String convIn = "encoder.conv_in.weight";
        long[] w = shape(ckpt, convIn, 4);
        if (w != null) {
            long[] implied = {c0, c.inChannels(), 3, 3};
            agree(w[1] == c.inChannels(), prefix, "in_channels is " + c.inChannels(), ckpt, convIn, w,
                    w[1] + " input channels", implied);
            agree(w[0] == c0, prefix, "block_out_channels[0] is " + c0, ckpt, convIn, w, "width " + w[0], implied);
        }
        String latentIn = "decoder.conv_in.weight";
        w = shape(ckpt, latentIn, 4);
        if (w != null) {
            long[] implied = {inner, c.latentChannels(), 3, 3};
            agree(w[1] == c.latentChannels(), prefix, "latent_channels is " + c.latentChannels(), ckpt, latentIn, w,
                    w[1] + " latent channels", implied);
            agree(w[0] == inner, prefix, "block_out_channels[-1] is " + inner, ckpt, latentIn, w, "width " + w[0],
                    implied);
        }
        String convOut = "decoder.conv_out.weight";
        w = shape(ckpt, convOut, 4);
        if (w != null) {
            agree(w[0] == c.outChannels(), prefix, "out_channels is " + c.outChannels(), ckpt, convOut, w,
                    w[0] + " output channels", new long[] {c.outChannels(), c0, 3, 3});
        }
        optional(prefix, "use_quant_conv", c.useQuantConv(), "quant_conv.weight", ckpt);
        optional(prefix, "use_post_quant_conv", c.usePostQuantConv(), "post_quant_conv.weight", ckpt);
        optional(prefix, "mid_block_add_attention", c.midBlockAttention(),
                "decoder.mid_block.attentions.0.to_q.weight", ckpt);
    }

    private static void optional(String prefix, String key, boolean want, String tensor, Checkpoint ckpt)
            throws CheckpointException {
        boolean has = ckpt.contains(tensor);
        if (want != has) {
            throw new CheckpointException(prefix + key + " is " + want + ", but " + ckpt.source()
                    + (has ? " holds " : " holds no ") + tensor + " (set " + key + " to " + has + ")");
        }
    }
}
