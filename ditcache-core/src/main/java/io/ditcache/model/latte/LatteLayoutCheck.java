package io.ditcache.model.latte;

import static io.ditcache.model.layers.HeaderChecks.agree;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.shape;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;

/**
 * Checks a Latte configuration against the checkpoint it comes with and against memory, before anything is built:
 * each key of {@code config.json} that a weight's shape records (num_layers of both block lists, the inner dim,
 * in_channels, patch_size, out_channels, caption_channels, cross_attention_dim, attention_bias) is compared with the
 * safetensors header, so that a config that disagrees with its weights is refused naming the key.
 */
final class LatteLayoutCheck {
    private static final String SPATIAL = "transformer_blocks.";
    private static final String TEMPORAL = "temporal_transformer_blocks.";
    private static final String PATCH = "pos_embed.proj.weight";
    private static final String CAPTION = "caption_projection.linear_1.weight";
    private static final String OUT = "proj_out.weight";
    private static final String CROSS_K = "transformer_blocks.0.attn2.to_k.weight";
    private static final String Q_BIAS = "transformer_blocks.0.attn1.to_q.bias";

    private LatteLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(LatteConfig c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        checkMemory(c, prefix, budget);
        blockCount(prefix, "num_layers", c.numLayers(), SPATIAL, ckpt);
        blockCount(prefix, "num_layers", c.numLayers(), TEMPORAL, ckpt);
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
        long[] caption = shape(ckpt, CAPTION, 2);
        if (caption != null) {
            long[] implied = {d, c.captionChannels()};
            agree(caption[1] == c.captionChannels(), prefix, "caption_channels is " + c.captionChannels(), ckpt,
                    CAPTION, caption, "captions " + caption[1] + " wide", implied);
            agree(caption[0] == d, prefix, inner, ckpt, CAPTION, caption, "inner dim " + caption[0], implied);
        }
        long[] out = shape(ckpt, OUT, 2);
        if (out != null) {
            long pp = p * p;
            long[] implied = {pp * c.outChannels(), d};
            agree(out[0] == pp * c.outChannels(), prefix, "out_channels is " + c.outChannels(), ckpt, OUT, out,
                    out[0] % pp == 0 ? out[0] / pp + " output channels at patch_size " + p
                            : out[0] + " outputs, not a multiple of patch_size^2 " + pp, implied);
        }
        long[] crossK = shape(ckpt, CROSS_K, 2);
        if (crossK != null) {
            agree(crossK[1] == c.crossAttentionDim(), prefix, "cross_attention_dim is " + c.crossAttentionDim(),
                    ckpt, CROSS_K, crossK, "keys from " + crossK[1] + " channels",
                    new long[] {d, c.crossAttentionDim()});
        }
        if (ckpt.contains(CROSS_K) && ckpt.contains(Q_BIAS) != c.attentionBias()) {
            throw new CheckpointException(prefix + "attention_bias is " + c.attentionBias() + ", but "
                    + ckpt.source() + (c.attentionBias() ? " has no tensor " : " has tensor ") + Q_BIAS);
        }
    }

    /** Refuses a configuration whose weights and one sample's forward do not fit in memory. */
    static void checkMemory(LatteConfig c, String prefix, MemoryBudget budget) throws CheckpointException {
        long weights = MemoryBudget.times(c.parameterCount() < 0 ? Long.MAX_VALUE : c.parameterCount(),
                Float.BYTES);
        long tokens = MemoryBudget.times((long) c.gridSize() * c.gridSize(), c.videoLength());
        // per video token the hidden state, q, k, v, attention output, modulated input and the 4-wide FF layer
        long activations = MemoryBudget.times(MemoryBudget.times(tokens, c.innerDim()), 10L * Float.BYTES);
        long nativeBytes = MemoryBudget.plus(weights, activations);
        String shortfall = budget.shortfall(0, nativeBytes);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " (inner dim " + c.innerDim()
                    + " = num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + ") is "
                    + MemoryBudget.bytes(weights) + " of float32 weights, and sample_size " + c.sampleSize()
                    + " x video_length " + c.videoLength() + " needs " + MemoryBudget.bytes(activations)
                    + " of activations: loading " + shortfall);
        }
    }
}
