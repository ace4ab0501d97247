package io.ditcache.model.dit;

import static io.ditcache.model.layers.HeaderChecks.shape;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.patchProjection;
import static io.ditcache.model.layers.HeaderChecks.agree;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;

/**
 * Checks a DiT configuration against the checkpoint it comes with and against memory, before anything is built:
 * each size key of {@code config.json} that a weight's shape records (num_layers, the inner dim, in_channels,
 * patch_size, out_channels, num_embeds_ada_norm, attention_bias) is compared with the safetensors header, and
 * what the configuration implies (weights, position table, one sample's activations) with the memory there is.
 * A config that disagrees is refused naming the key rather than built until memory runs out.
 */
final class DiTLayoutCheck {
    private static final String BLOCKS = "transformer_blocks.";
    private static final String PATCH = "pos_embed.proj.weight";
    private static final String OUT = "proj_out_2.weight";
    private static final String TABLE = "transformer_blocks.0.norm1.emb.class_embedder.embedding_table.weight";
    private static final String Q_BIAS = "transformer_blocks.0.attn1.to_q.bias";

    private DiTLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(DiTConfig c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        checkMemory(c, prefix, budget);
        blockCount(prefix, "num_layers", c.numLayers(), BLOCKS, ckpt);
        String inner = "num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + " = "
                + c.innerDim();
        long d = c.innerDim();
        long p = c.patchSize();
        patchProjection(prefix, ckpt, PATCH, inner, d, c.inChannels(), p);
        long[] table = shape(ckpt, TABLE, 2);
        if (table != null) {
            long[] implied = {c.numClasses() + 1L, d};
            agree(table[0] == c.numClasses() + 1L, prefix, "num_embeds_ada_norm is " + c.numClasses(), ckpt, TABLE,
                    table, table[0] + " rows, that is " + (table[0] - 1) + " classes and the null class", implied);
            agree(table[1] == d, prefix, inner, ckpt, TABLE, table, "inner dim " + table[1], implied);
        }
        long[] out = shape(ckpt, OUT, 2);
        if (out != null) {
            long pp = p * p;
            long[] implied = {pp * c.outChannels(), d};
            agree(out[0] == pp * c.outChannels(), prefix, "out_channels is " + c.outChannels(), ckpt, OUT, out,
                    out[0] % pp == 0 ? out[0] / pp + " output channels at patch_size " + p
                            : out[0] + " outputs, not a multiple of patch_size^2 " + pp, implied);
            agree(out[1] == d, prefix, inner, ckpt, OUT, out, "inner dim " + out[1], implied);
        }
        if (ckpt.contains(TABLE) && ckpt.contains(Q_BIAS) != c.attentionBias()) {
            throw new CheckpointException(prefix + "attention_bias is " + c.attentionBias() + ", but "
                    + ckpt.source() + (c.attentionBias() ? " has no tensor " : " has tensor ") + Q_BIAS);
        }
    }

    /** Refuses a configuration whose weights, position table and one sample's forward do not fit in memory. */
    static void checkMemory(DiTConfig c, String prefix, MemoryBudget budget) throws CheckpointException {
        long floats = Float.BYTES;
        long weights = MemoryBudget.times(c.parameterCount(), floats);
        long table = MemoryBudget.times(c.positionTableElements(), floats);
        long activations = MemoryBudget.times(c.activationElements(c.sampleSize(), c.sampleSize()), floats);
        // the model's own parameters and the float32 copies loaded from the file are alive together
        long nativeBytes = MemoryBudget.plus(MemoryBudget.plus(MemoryBudget.times(weights, 2), table), activations);
        String shortfall = budget.shortfall(table, nativeBytes);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " x "
                    + count(c.blockParameterCount()) + " parameters per block (inner dim " + c.innerDim()
                    + " = num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim()
                    + ", num_embeds_ada_norm " + c.numClasses() + ") is " + MemoryBudget.bytes(weights)
                    + " of float32 weights, and sample_size " + c.sampleSize() + " / patch_size " + c.patchSize()
                    + " is " + MemoryBudget.bytes(MemoryBudget.plus(table, activations))
                    + " of position table and activations: loading " + shortfall);
        }
    }

    private static String count(long n) {
        return n < 0 ? "more than " + Long.MAX_VALUE : Long.toString(n);
    }



}
