package io.ditcache.model.dit;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockLayout;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import io.ditcache.cache.CacheRuntime;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * One cached sampling run of a {@link DiTModel}: a {@link CacheRuntime} over the model's blocks. Pass it to
 * {@link DiTModel#forward(Tensor, Tensor, Tensor, Step, CacheSession)} once per step, in order; close it after the
 * run to free the cached tensors. The DiT has no cache logic of its own: its blocks are the runtime's
 * {@link io.ditcache.cache.BlockCall}s, as any other stack's would be.
 */
public final class CacheSession implements AutoCloseable {
    private final CacheRuntime runtime;

    /**
     * A session over {@code layers} DiT blocks of equal cost.
     *
     * @param policy decides; reset here
     * @param stats  receives the applied decisions
     * @param layers the model's blocks
     * @param steps  calls in the run
     * @param rows   the branch of each batch row (as in {@link Step#rows()})
     */
    public CacheSession(CachePolicy policy, CacheStats stats, int layers, int steps, List<Branch> rows) {
        this(new CacheRuntime(policy, stats, BlockLayout.plain(layers), steps, rows));
    }

    CacheSession(CacheRuntime runtime) {
        this.runtime = runtime;
    }

    /** A session over {@code model}'s {@link DiTModel#blockLayout()}, handing block outputs to {@code probe}. */
    static CacheSession of(DiTModel model, CachePolicy policy, CacheStats stats, int steps, List<Branch> rows,
            ActivationProbe probe) {
        return new CacheSession(new CacheRuntime(policy, stats, model.blockLayout(), steps, rows, probe));
    }

    public CachePolicy policy() {
        return runtime.policy();
    }

    public CacheStats stats() {
        return runtime.stats();
    }

    /** The runtime the blocks run through. */
    public CacheRuntime runtime() {
        return runtime;
    }

    @Override
    public void close() {
        runtime.close();
    }
}
