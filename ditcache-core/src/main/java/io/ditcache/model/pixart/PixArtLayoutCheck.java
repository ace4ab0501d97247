package io.ditcache.model.pixart;

import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.inputProjection;
import static io.ditcache.model.layers.HeaderChecks.patchOutput;
import static io.ditcache.model.layers.HeaderChecks.patchProjection;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;

/**
 * Checks a PixArt configuration against the checkpoint it comes with and against memory, before anything is
 * built: each key of {@code config.json} that a weight's shape records (num_layers, the inner dim, in_channels,
 * patch_size, out_channels, caption_channels, cross_attention_dim, use_additional_conditions, attention_bias) is
 * compared with the safetensors header, so that a config that disagrees with its weights is refused naming the
 * key rather than as a list of keys or shapes.
 */
final class PixArtLayoutCheck {
    private static final String BLOCKS = "transformer_blocks.";
    private static final String PATCH = "pos_embed.proj.weight";
    private static final String CAPTION = "caption_projection.linear_1.weight";
    private static final String OUT = "proj_out.weight";
    private static final String CROSS_K = "transformer_blocks.0.attn2.to_k.weight";
    private static final String Q_BIAS = "transformer_blocks.0.attn1.to_q.bias";
    private static final String RESOLUTION = "adaln_single.emb.resolution_embedder.linear_1.weight";

    private PixArtLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(PixArtConfig c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        checkMemory(c, prefix, budget);
        blockCount(prefix, "num_layers", c.numLayers(), BLOCKS, ckpt);
        long d = c.innerDim();
        long p = c.patchSize();
        String inner = "num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + " = " + d;
        patchProjection(prefix, ckpt, PATCH, inner, d, c.inChannels(), p);
        inputProjection(prefix, ckpt, CAPTION, "caption_channels", c.captionChannels(), inner, d, "captions");
        patchOutput(prefix, ckpt, OUT, d, p, c.outChannels());
        inputProjection(prefix, ckpt, CROSS_K, "cross_attention_dim", c.crossAttentionDim(), inner, d,
                "keys from channels");
        if (ckpt.contains(PATCH) && ckpt.contains(RESOLUTION) != c.useAdditionalConditions()) {
            throw new CheckpointException(prefix + "use_additional_conditions is " + c.useAdditionalConditions()
                    + ", but " + ckpt.source() + (c.useAdditionalConditions() ? " has no tensor " : " has tensor ")
                    + RESOLUTION);
        }
        if (ckpt.contains(CROSS_K) && ckpt.contains(Q_BIAS) != c.attentionBias()) {
            throw new CheckpointException(prefix + "attention_bias is " + c.attentionBias() + ", but "
                    + ckpt.source() + (c.attentionBias() ? " has no tensor " : " has tensor ") + Q_BIAS);
        }
    }

    /** Refuses a configuration whose weights and one sample's forward do not fit in memory. */
    static void checkMemory(PixArtConfig c, String prefix, MemoryBudget budget) throws CheckpointException {
        long weights = MemoryBudget.times(c.parameterCount(), Float.BYTES);
        long table = MemoryBudget.times(MemoryBudget.times((long) c.gridSize() * c.gridSize(), c.innerDim()),
                Float.BYTES);
        long activations = MemoryBudget.times(c.activationElements(c.sampleSize(), c.sampleSize(), 1),
                Float.BYTES);
        // the model's parameters and one weight loaded from the file at a time, the position table, activations
        long nativeBytes = MemoryBudget.plus(MemoryBudget.plus(weights, table), activations);
        String shortfall = budget.shortfall(0, nativeBytes);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " x "
                    + (c.blockParameterCount() < 0 ? "more than " + Long.MAX_VALUE : c.blockParameterCount())
                    + " parameters per block (inner dim " + c.innerDim() + " = num_attention_heads " + c.numHeads()
                    + " x attention_head_dim " + c.headDim() + ") is " + MemoryBudget.bytes(weights)
                    + " of float32 weights, and sample_size " + c.sampleSize() + " / patch_size " + c.patchSize()
                    + " needs " + MemoryBudget.bytes(MemoryBudget.plus(table, activations))
                    + " of position table and activations: loading " + shortfall);
        }
    }



}
