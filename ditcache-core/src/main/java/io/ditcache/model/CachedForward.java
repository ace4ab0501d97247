package io.ditcache.model;

import io.ditcache.Step;
import org.bytedeco.pytorch.Tensor;

/**
 * One cached sampling run of a {@link Denoiser} (made by {@link Denoiser#cached}): a forward whose blocks are
 * computed or reused as the run's cache policy decides. Call {@link #forward} once per step, in step order;
 * close it after the run to free what it cached. {@code close()} is idempotent.
 */
public interface CachedForward extends AutoCloseable {
    /**
     * One forward of step {@code step}, arguments and result as {@link Denoiser#forward}; the rows must be those
     * the run was made for.
     */
    Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step);

    /** Frees the cached tensors. */
    @Override
    void close();
}
