package io.ditcache.model.opensora;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.model.layers.HeaderChecks;

/**
 * Checks an STDiT3 config.json against the weights' header before anything is allocated: the block counts of
 * both lists against {@code depth}, the hidden width ({@code x_embedder.proj.bias}), the caption width
 * ({@code y_embedder.y_proj.fc1.weight}) and the MLP width ({@code spatial_blocks.0.mlp.fc1.weight}). Each
 * disagreement is one line naming config.json, the key, the tensor, its file and both shapes.
 */
final class STDiT3LayoutCheck {
    private STDiT3LayoutCheck() {
    }

    static void check(STDiT3Config c, String configSource, Checkpoint ckpt) throws CheckpointException {
        String prefix = configSource + ": ";
        HeaderChecks.blockCount(prefix, "depth", c.depth(), "spatial_blocks.", ckpt);
        HeaderChecks.blockCount(prefix, "depth", c.depth(), "temporal_blocks.", ckpt);
        long d = c.hiddenSize();
        long[] bias = HeaderChecks.shape(ckpt, "x_embedder.proj.bias", 1);
        if (bias != null) {
            HeaderChecks.agree(bias[0] == d, prefix, "hidden_size is " + d, ckpt, "x_embedder.proj.bias", bias,
                    "hidden size " + bias[0], new long[] {d});
        }
        long[] fc1 = HeaderChecks.shape(ckpt, "y_embedder.y_proj.fc1.weight", 2);
        if (fc1 != null) {
            HeaderChecks.agree(fc1[1] == c.captionChannels(), prefix, "caption_channels is " + c.captionChannels(),
                    ckpt, "y_embedder.y_proj.fc1.weight", fc1, "caption width " + fc1[1],
                    new long[] {d, c.captionChannels()});
        }
        long[] mlp = HeaderChecks.shape(ckpt, "spatial_blocks.0.mlp.fc1.weight", 2);
        if (mlp != null) {
            HeaderChecks.agree(mlp[0] == c.mlpHidden(), prefix, "mlp_ratio is " + c.mlpRatio(), ckpt,
                    "spatial_blocks.0.mlp.fc1.weight", mlp, "MLP width " + mlp[0], new long[] {c.mlpHidden(), d});
        }
    }
}
