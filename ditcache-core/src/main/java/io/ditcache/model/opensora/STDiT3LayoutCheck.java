package io.ditcache.model.opensora;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.layers.HeaderChecks;

/**
 * Checks an STDiT3 config.json against the weights' header before anything is allocated: the block counts of
 * both lists against {@code depth}, the hidden width ({@code x_embedder.proj.bias}), the caption width
 * ({@code y_embedder.y_proj.fc1.weight}) and the MLP width ({@code spatial_blocks.0.mlp.fc1.weight}), then the
 * memory the weights and one sample's forward at {@code input_size} need. Each disagreement is one line naming
 * config.json, the key, the tensor, its file and both shapes.
 */
final class STDiT3LayoutCheck {
    private STDiT3LayoutCheck() {
    }

    static void check(STDiT3Config c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        checkMemory(c, prefix, budget);
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

    /**
     * Refuses a configuration whose float32 weights (parameters and the null caption) and one sample's forward at
     * {@code input_size} (per token the hidden state, q, k, v, attention output, modulated input and the MLP's
     * hidden layer) do not fit in memory.
     */
    static void checkMemory(STDiT3Config c, String prefix, MemoryBudget budget) throws CheckpointException {
        long params = c.parameterCount();
        long[] size = c.inputSize();
        int[] p = c.patchSize();
        long tokens = MemoryBudget.times(MemoryBudget.times(size[0] / p[0], size[1] / p[1]), size[2] / p[2]);
        long weights = MemoryBudget.times(MemoryBudget.plus(params, MemoryBudget.times(c.modelMaxLength(),
                c.captionChannels())), Float.BYTES);
        long activations = MemoryBudget.times(MemoryBudget.times(tokens, 6L * c.hiddenSize() + c.mlpHidden()),
                Float.BYTES);
        String shortfall = budget.shortfall(0, MemoryBudget.plus(weights, activations));
        if (shortfall != null) {
            throw new CheckpointException(prefix + "depth " + c.depth() + " x 2 blocks of hidden_size "
                    + c.hiddenSize() + " is " + MemoryBudget.bytes(weights) + " of float32 weights, and input_size "
                    + java.util.Arrays.toString(size) + " needs " + MemoryBudget.bytes(activations)
                    + " of activations: loading " + shortfall);
        }
    }
}
