package io.ditcache.model.cogvideox;

import static io.ditcache.model.layers.HeaderChecks.agree;
import static io.ditcache.model.layers.HeaderChecks.blockCount;
import static io.ditcache.model.layers.HeaderChecks.shape;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;

/**
 * Checks a CogVideoX configuration against the checkpoint it comes with before anything is built: each key of
 * {@code config.json} that a weight's shape records (num_layers, the inner dim, in_channels, patch_size,
 * patch_size_t, text_embed_dim, time_embed_dim, out_channels, attention_head_dim) is compared with the safetensors
 * header, so that a config that disagrees is refused naming the key.
 */
final class CogVideoXLayoutCheck {
    private static final String PATCH = "patch_embed.proj.weight";
    private static final String TEXT = "patch_embed.text_proj.weight";
    private static final String TIME = "time_embedding.linear_1.weight";
    private static final String OUT = "proj_out.weight";
    private static final String NORM_Q = "transformer_blocks.0.attn1.norm_q.weight";

    private CogVideoXLayoutCheck() {
    }

    /**
     * @param configSource names config.json in messages
     * @throws CheckpointException naming config.json, the key, its value and what the weights say
     */
    static void check(CogVideoXConfig c, String configSource, Checkpoint ckpt) throws CheckpointException {
        String prefix = configSource + ": ";
        blockCount(prefix, "num_layers", c.numLayers(), "transformer_blocks.", ckpt);
        long d = c.innerDim();
        long p = c.patchSize();
        String inner = "num_attention_heads " + c.numHeads() + " x attention_head_dim " + c.headDim() + " = " + d;
        if (ckpt.contains(PATCH)) {
            int rank = ckpt.info(PATCH).dims().length;
            if (rank != (c.temporalPatches() ? 2 : 4)) {
                throw new CheckpointException(prefix + "patch_size_t is " + (c.temporalPatches() ? c.patchSizeT()
                        : "null") + ", but tensor " + PATCH + " in " + ckpt.sourceOf(PATCH) + " has rank " + rank
                        + " (" + (rank == 2 ? "a Linear over temporal patches: CogVideoX 1.5, patch_size_t set"
                        : "a per-frame convolution: CogVideoX 1.0, patch_size_t null") + ")");
            }
        }
        long[] patch = shape(ckpt, PATCH, c.temporalPatches() ? 2 : 4);
        if (patch != null) {
            agree(patch[0] == d, prefix, inner, ckpt, PATCH, patch, "inner dim " + patch[0], c.temporalPatches()
                    ? new long[] {d, c.patchFeatures()} : new long[] {d, c.inChannels(), p, p});
            if (c.temporalPatches()) {
                agree(patch[1] == c.patchFeatures(), prefix, "in_channels " + c.inChannels() + " x patch_size_t "
                        + c.patchSizeT() + " x patch_size^2 " + p * p + " = " + c.patchFeatures(), ckpt, PATCH, patch,
                        patch[1] + " inputs per token", new long[] {d, c.patchFeatures()});
            } else {
                long[] implied = {d, c.inChannels(), p, p};
                agree(patch[1] == c.inChannels(), prefix, "in_channels is " + c.inChannels(), ckpt, PATCH, patch,
                        patch[1] + " input channels", implied);
                agree(patch[2] == p && patch[3] == p, prefix, "patch_size is " + p, ckpt, PATCH, patch,
                        "patches of " + patch[2] + " x " + patch[3], implied);
            }
        }
        long[] text = shape(ckpt, TEXT, 2);
        if (text != null) {
            agree(text[1] == c.textEmbedDim(), prefix, "text_embed_dim is " + c.textEmbedDim(), ckpt, TEXT, text,
                    "text tokens of width " + text[1], new long[] {d, c.textEmbedDim()});
        }
        long[] time = shape(ckpt, TIME, 2);
        if (time != null) {
            agree(time[0] == c.timeEmbedDim(), prefix, "time_embed_dim is " + c.timeEmbedDim(), ckpt, TIME, time,
                    "a timestep embedding of width " + time[0], new long[] {c.timeEmbedDim(), d});
        }
        long[] out = shape(ckpt, OUT, 2);
        if (out != null) {
            long per = c.projOutFeatures() / c.outChannels();
            agree(out[0] == c.projOutFeatures(), prefix, "out_channels is " + c.outChannels(), ckpt, OUT, out,
                    out[0] % per == 0 ? out[0] / per + " output channels" : out[0] + " outputs, not a multiple of "
                            + per, new long[] {c.projOutFeatures(), d});
        }
        long[] normQ = shape(ckpt, NORM_Q, 1);
        if (normQ != null) {
            agree(normQ[0] == c.headDim(), prefix, "attention_head_dim is " + c.headDim(), ckpt, NORM_Q, normQ,
                    "heads of " + normQ[0] + " channels", new long[] {c.headDim()});
        }
    }
}
