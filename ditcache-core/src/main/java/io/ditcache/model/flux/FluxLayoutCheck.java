package io.ditcache.model.flux;

import static io.ditcache.model.layers.HeaderChecks.blockIndex;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.MemoryBudget;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Checks a FLUX configuration against the checkpoint it comes with and against memory before anything is built:
 * the block counts, the widths the first weights record (inner dim, in/out channels, joint attention and pooled
 * widths, head dim) and whether a guidance embedder is present, each refused naming the config key, the tensor and
 * both values, rather than reported later as a list of missing keys.
 */
final class FluxLayoutCheck {
    private static final String DOUBLE = "transformer_blocks.";
    private static final String SINGLE = "single_transformer_blocks.";
    private static final String GUIDANCE = "time_text_embed.guidance_embedder.linear_1.weight";

    private FluxLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights or memory allow
     */
    static void check(FluxConfig c, String configSource, Checkpoint ckpt, MemoryBudget budget)
            throws CheckpointException {
        String prefix = configSource + ": ";
        // in float32 whatever the compute type: the module is built in float32 before its weights are converted
        long weights = MemoryBudget.times(c.parameterCount(), Float.BYTES);
        String shortfall = budget.shortfall(0, weights);
        if (shortfall != null) {
            throw new CheckpointException(prefix + "num_layers " + c.numLayers() + " + num_single_layers "
                    + c.numSingleLayers() + " blocks of inner dim " + c.innerDim() + " are " + c.parameterCount()
                    + " parameters, " + MemoryBudget.bytes(weights) + " in float32: loading " + shortfall);
        }
        blocks(prefix, "num_layers", c.numLayers(), DOUBLE, ckpt);
        blocks(prefix, "num_single_layers", c.numSingleLayers(), SINGLE, ckpt);
        String inner = "num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + " = "
                + c.innerDim();
        long d = c.innerDim();
        agree(prefix, ckpt, "x_embedder.weight", new long[] {d, c.inChannels()},
                inner + ", in_channels " + c.inChannels());
        agree(prefix, ckpt, "context_embedder.weight", new long[] {d, c.jointAttentionDim()},
                inner + ", joint_attention_dim " + c.jointAttentionDim());
        agree(prefix, ckpt, "time_text_embed.text_embedder.linear_1.weight", new long[] {d, c.pooledProjectionDim()},
                inner + ", pooled_projection_dim " + c.pooledProjectionDim());
        agree(prefix, ckpt, "proj_out.weight", new long[] {c.outChannels(), d},
                "out_channels " + c.outChannels() + ", " + inner);
        agree(prefix, ckpt, DOUBLE + "0.attn.norm_k.weight", new long[] {c.headDim()},
                "attention_head_dim " + c.headDim());
        if (ckpt.contains(GUIDANCE) != c.guidanceEmbeds()) {
            throw new CheckpointException(prefix + "guidance_embeds is " + c.guidanceEmbeds() + ", but "
                    + ckpt.source() + (c.guidanceEmbeds() ? " has no tensor " : " has tensor ") + GUIDANCE);
        }
    }

    private static void blocks(String prefix, String key, int want, String list, Checkpoint ckpt)
            throws CheckpointException {
        TreeSet<Integer> found = new TreeSet<>();
        for (String name : ckpt.names()) {
            int i = blockIndex(name, list);
            if (i >= 0) {
                found.add(i);
            }
        }
        if (found.size() != want) {
            throw new CheckpointException(prefix + key + " is " + want + ", but " + ckpt.source() + " holds "
                    + found.size() + " blocks " + list + "N" + (found.isEmpty() ? ""
                    : " (" + list + found.first() + " to " + list + found.last() + ")"));
        }
    }


    private static void agree(String prefix, Checkpoint ckpt, String tensor, long[] implied, String keys)
            throws CheckpointException {
        if (!ckpt.contains(tensor)) {
            return; // reported as a missing key by the full comparison
        }
        long[] shape = ckpt.info(tensor).dims();
        if (!Arrays.equals(shape, implied)) {
            throw new CheckpointException(prefix + keys + ", but tensor " + tensor + " in " + ckpt.source()
                    + " has shape " + Arrays.toString(shape) + " where config.json implies "
                    + Arrays.toString(implied));
        }
    }
}
