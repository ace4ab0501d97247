package io.ditcache.model.layers;

import io.ditcache.Step;
import io.ditcache.cache.CacheRuntime;
import io.ditcache.model.CachedForward;
import io.ditcache.model.Conditioning;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * A family's {@link CachedForward}: each forward runs the family's blocks through one {@link CacheRuntime}, which
 * the first {@link #close()} closes. A forward after closing is refused naming the model.
 */
public final class RuntimeForward implements CachedForward {
    /** One forward with the run's runtime. */
    @FunctionalInterface
    public interface Body {
        Tensor forward(CacheRuntime runtime, Tensor latents, Tensor timesteps, Conditioning batch, Step step);
    }

    private final String model;
    private final CacheRuntime runtime;
    private final Body body;
    private boolean closed;

    /**
     * @param model   the model's class name, for messages
     * @param runtime the run's runtime, owned by this forward from now on
     */
    public RuntimeForward(String model, CacheRuntime runtime, Body body) {
        this.model = Objects.requireNonNull(model, "model");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.body = Objects.requireNonNull(body, "body");
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step) {
        if (closed) {
            throw new IllegalStateException("cached forward of " + model + " is closed");
        }
        return body.forward(runtime, latents, timesteps, batch, step);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            runtime.close();
        }
    }
}
