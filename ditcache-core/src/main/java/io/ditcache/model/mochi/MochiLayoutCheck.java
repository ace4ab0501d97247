package io.ditcache.model.mochi;

import static io.ditcache.model.layers.HeaderChecks.agree;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.shape;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;

/**
 * Checks a Mochi configuration against the checkpoint it comes with and against memory, before anything is built:
 * each key of {@code config.json} that a weight's shape records (num_layers, the inner dim, in_channels,
 * patch_size, text_embed_dim, pooled_projection_dim, num_attention_heads and attention_head_dim through
 * {@code pos_frequencies}, time_embed_dim, out_channels) is compared with the safetensors header, so that a config
 * that disagrees is refused naming the key.
 */
final class MochiLayoutCheck {
    private static final String BLOCKS = "transformer_blocks.";
    private static final String PATCH = "patch_embed.proj.weight";
    private static final String CAPTION = "time_embed.caption_proj.weight";
    private static final String TIME = "time_embed.timestep_embedder.linear_1.weight";
    private static final String FREQS = "pos_frequencies";
    private static final String OUT = "proj_out.weight";

    private MochiLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(MochiConfig c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        checkMemory(c, prefix, budget);
        blockCount(prefix, "num_layers", c.numLayers(), BLOCKS, ckpt);
        long d = c.innerDim();
        long p = c.patchSize();
        String inner = "num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + " = " + d;
        long[] patch = shape(ckpt, PATCH, 4);
        if (patch != null) {
            long[] implied = {d, c.inChannels(), p, p};
            agree(patch[0] == d, prefix, inner, ckpt, PATCH, patch, "inner dim " + patch[0], implied);
            agree(patch[1] == c.inChannels(), prefix, "in_channels is " + c.inChannels(), ckpt, PATCH, patch,
                    patch[1] + " input channels", implied);
            agree(patch[2] == p && patch[3] == p, prefix, "patch_size is " + p, ckpt, PATCH, patch,
                    "patches of " + patch[2] + " x " + patch[3], implied);
        }
        long[] freqs = shape(ckpt, FREQS, 3);
        if (freqs != null) {
            long[] implied = {3, c.numHeads(), c.headDim() / 2};
            agree(freqs[1] == c.numHeads(), prefix, "num_attention_heads is " + c.numHeads(), ckpt, FREQS, freqs,
                    freqs[1] + " heads", implied);
            agree(freqs[2] == c.headDim() / 2, prefix, "attention_head_dim is " + c.headDim(), ckpt, FREQS, freqs,
                    "heads of " + 2 * freqs[2] + " channels", implied);
        }
        long[] caption = shape(ckpt, CAPTION, 2);
        if (caption != null) {
            long[] implied = {c.pooledProjectionDim(), c.textEmbedDim()};
            agree(caption[1] == c.textEmbedDim(), prefix, "text_embed_dim is " + c.textEmbedDim(), ckpt, CAPTION,
                    caption, "text tokens of width " + caption[1], implied);
            agree(caption[0] == c.pooledProjectionDim(), prefix, "pooled_projection_dim is "
                    + c.pooledProjectionDim(), ckpt, CAPTION, caption, "a text stream of width " + caption[0],
                    implied);
        }
        long[] time = shape(ckpt, TIME, 2);
        if (time != null) {
            long[] implied = {d, c.timeEmbedDim()};
            agree(time[1] == c.timeEmbedDim(), prefix, "time_embed_dim is " + c.timeEmbedDim(), ckpt, TIME, time,
                    time[1] + " timestep features", implied);
        }
        long[] out = shape(ckpt, OUT, 2);
        if (out != null) {
            long pp = p * p;
            long[] implied = {pp * c.outChannels(), d};
            agree(out[0] == pp * c.outChannels(), prefix, "out_channels is " + c.outChannels(), ckpt, OUT, out,
                    out[0] % pp == 0 ? out[0] / pp + " output channels at patch_size " + p
                            : out[0] + " outputs, not a multiple of patch_size^2 " + pp, implied);
        }
    }

    /** Refuses a configuration whose float32 weights do not fit in memory. */
    static void checkMemory(MochiConfig c, String prefix, MemoryBudget budget) throws CheckpointException {
        long weights = MemoryBudget.times(c.parameterCount(), Float.BYTES);
        String shortfall = budget.shortfall(0, weights);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " at inner dim " + c.innerDim()
                    + " (num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + ") is "
                    + MemoryBudget.bytes(weights) + " of float32 weights: loading " + shortfall);
        }
    }
}
