package io.ditcache.model.sd3;

import static io.ditcache.model.layers.HeaderChecks.shape;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.patchOutput;
import static io.ditcache.model.layers.HeaderChecks.patchProjection;
import static io.ditcache.model.layers.HeaderChecks.blockIndex;
import static io.ditcache.model.layers.HeaderChecks.agree;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;
import java.util.TreeSet;

/**
 * Checks an SD3 configuration against the checkpoint it comes with and against memory, before anything is built:
 * each key of {@code config.json} that a weight's shape or presence records (num_layers, the inner dim,
 * in_channels, patch_size, out_channels, joint_attention_dim, caption_projection_dim, pooled_projection_dim,
 * pos_embed_max_size, attention_head_dim where q/k norms record it, qk_norm, dual_attention_layers) is compared
 * with the safetensors header, so that a config that disagrees is refused naming the key.
 */
final class SD3LayoutCheck {
    private static final String BLOCKS = "transformer_blocks.";
    private static final String PATCH = "pos_embed.proj.weight";
    private static final String TABLE = SD3PatchEmbed.TABLE_KEY;
    private static final String CONTEXT = "context_embedder.weight";
    private static final String POOLED = "time_text_embed.text_embedder.linear_1.weight";
    private static final String OUT = "proj_out.weight";
    private static final String NORM_Q = "transformer_blocks.0.attn.norm_q.weight";

    private SD3LayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(SD3Config c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        checkMemory(c, prefix, budget);
        blockCount(prefix, "num_layers", c.numLayers(), BLOCKS, ckpt);
        TreeSet<Integer> dual = new TreeSet<>();
        for (String name : ckpt.names()) {
            int block = blockIndex(name, BLOCKS);
            if (block >= 0 && name.startsWith(BLOCKS + block + ".attn2.")) {
                dual.add(block);
            }
        }
        if (!dual.equals(new TreeSet<>(c.dualAttentionLayers()))) {
            throw new CheckpointException(prefix + "dual_attention_layers is " + c.dualAttentionLayers() + ", but "
                    + ckpt.source() + " has attn2 weights in blocks " + dual);
        }
        long d = c.innerDim();
        long p = c.patchSize();
        String inner = "num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + " = " + d;
        patchProjection(prefix, ckpt, PATCH, inner, d, c.inChannels(), p);
        long[] context = shape(ckpt, CONTEXT, 2);
        if (context != null) {
            long[] implied = {c.captionProjectionDim(), c.jointAttentionDim()};
            agree(context[1] == c.jointAttentionDim(), prefix, "joint_attention_dim is " + c.jointAttentionDim(),
                    ckpt, CONTEXT, context, "text tokens of width " + context[1], implied);
            agree(context[0] == c.captionProjectionDim(), prefix, "caption_projection_dim is "
                    + c.captionProjectionDim(), ckpt, CONTEXT, context, "a projection to " + context[0], implied);
        }
        long[] pooled = shape(ckpt, POOLED, 2);
        if (pooled != null) {
            long[] implied = {d, c.pooledProjectionDim()};
            agree(pooled[1] == c.pooledProjectionDim(), prefix, "pooled_projection_dim is "
                    + c.pooledProjectionDim(), ckpt, POOLED, pooled, "a pooled vector of width " + pooled[1], implied);
            agree(pooled[0] == d, prefix, inner, ckpt, POOLED, pooled, "inner dim " + pooled[0], implied);
        }
        patchOutput(prefix, ckpt, OUT, d, p, c.outChannels());
        long[] table = shape(ckpt, TABLE, 3);
        if (table != null) {
            long max = c.posEmbedMaxSize();
            long[] implied = {1, max * max, d};
            long side = (long) Math.sqrt((double) table[1]);
            agree(table[1] == max * max, prefix, "pos_embed_max_size is " + max, ckpt, TABLE, table,
                    side * side == table[1] ? "a table of " + side + " x " + side + " positions"
                            : table[1] + " positions, not a square", implied);
        }
        if (ckpt.contains(NORM_Q) != c.qkRmsNorm()) {
            throw new CheckpointException(prefix + "qk_norm is " + (c.qkRmsNorm() ? "\"rms_norm\"" : "null")
                    + ", but " + ckpt.source() + (c.qkRmsNorm() ? " has no tensor " : " has tensor ") + NORM_Q);
        }
        long[] normQ = shape(ckpt, NORM_Q, 1);
        if (normQ != null) {
            agree(normQ[0] == c.headDim(), prefix, "attention_head_dim is " + c.headDim(), ckpt, NORM_Q, normQ,
                    "heads of " + normQ[0] + " channels", new long[] {c.headDim()});
        }
    }

    /** Refuses a configuration whose weights and one sample's forward at the default size do not fit in memory. */
    static void checkMemory(SD3Config c, String prefix, MemoryBudget budget) throws CheckpointException {
        long floats = Float.BYTES;
        long table = MemoryBudget.times((long) c.posEmbedMaxSize() * c.posEmbedMaxSize(), c.innerDim());
        long weights = MemoryBudget.times(MemoryBudget.plus(c.parameterCount(), table), floats);
        long activations = MemoryBudget.times(c.activationElements(c.sampleSize(), c.sampleSize(), 0), floats);
        String shortfall = budget.shortfall(0, MemoryBudget.plus(weights, activations));
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " at inner dim " + c.innerDim()
                    + " (num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + ") is "
                    + MemoryBudget.bytes(weights) + " of float32 weights and position table, and sample_size "
                    + c.sampleSize() + " is " + MemoryBudget.bytes(activations) + " of activations: loading "
                    + shortfall);
        }
    }



}
