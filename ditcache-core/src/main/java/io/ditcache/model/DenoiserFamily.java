package io.ditcache.model;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import java.io.IOException;
import java.util.Set;

/**
 * A model family: builds {@link Denoiser}s from diffusers checkpoints whose {@code config.json} names one of its
 * classes. Found by {@link ModelLoader} through {@link java.util.ServiceLoader}: list the implementation in
 * {@code META-INF/services/io.ditcache.model.DenoiserFamily}; it needs a public no-argument constructor.
 */
public interface DenoiserFamily {
    /** diffusers' {@code _class_name} values this family loads, e.g. {@code DiTTransformer2DModel}. */
    Set<String> classNames();

    /**
     * Builds the model of {@code ckpt}. Every size read from {@code config} is checked against the weights'
     * header and against {@code budget} before anything is allocated, and every weight (missing, unexpected,
     * shape, dtype) before any is copied in.
     *
     * @param config {@code ckpt}'s config; its class is one of {@link #classNames()}
     * @param budget the memory the model may take
     * @throws io.ditcache.io.CheckpointException naming the file, the key, the bad value and what was expected
     */
    Denoiser load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException;

    /**
     * Builds the model of {@code ckpt} holding its weights in, and computing with, {@code type}; as
     * {@link #load(Checkpoint, DiffusersConfig, MemoryBudget)} otherwise. The default loads float32 only.
     *
     * @throws io.ditcache.io.CheckpointException for a compute type the family does not run, naming it
     */
    default Denoiser load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget, ComputeType type)
            throws IOException {
        if (type != ComputeType.FLOAT32) {
            throw new io.ditcache.io.CheckpointException(config.source() + ": " + config.className()
                    + " computes in float32 only, not " + type.label());
        }
        return load(ckpt, config, budget);
    }

    /**
     * The model {@code config} defines, without allocating its weights: parameter shapes under diffusers' keys
     * and the block layout ({@code inspect}, and the header check before loading).
     *
     * @param config a config whose class is one of {@link #classNames()}
     * @throws io.ditcache.io.CheckpointException naming the config file, the key, the bad value and what was
     *                                            expected
     */
    ModelDescription describe(DiffusersConfig config) throws IOException;
}
