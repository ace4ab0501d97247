package io.ditcache;

import org.bytedeco.pytorch.Tensor;

/**
 * Receives activations from a model at every {@link Site} of every call. Models call it; there are no hooks.
 *
 * <p>The tensor is {@code [batch, tokens, channels]} (heads merged, tokens in model order) and is only valid
 * during the call: a probe that needs it later must copy what it needs.
 */
public interface ActivationProbe {

    /** A probe that observes nothing; models skip all probe work for it. */
    ActivationProbe NONE = new ActivationProbe() {
        @Override
        public boolean wants(Site site) {
            return false;
        }

        @Override
        public void observe(Step step, Site site, Tensor activation) {
        }
    };

    /** Whether this probe wants {@code site}; models skip the work of producing unwanted activations. */
    default boolean wants(Site site) {
        return true;
    }

    /** Observes one activation. */
    void observe(Step step, Site site, Tensor activation);

    /**
     * Observes a block's residual at a {@link SiteKind#BLOCK_RESIDUAL} site: {@code output - input}, two tensors of
     * one shape. Models call it (only for a wanted site) instead of subtracting themselves; the default subtracts and
     * calls {@link #observe}. A probe that can read the residual from both tensors overrides it and saves the
     * subtraction, a tensor per block and step (the {@code StreamingProfiler} does, on the CPU). Both tensors are
     * only valid during the call, as in {@link #observe}.
     */
    default void observeResidual(Step step, Site site, Tensor output, Tensor input) {
        observe(step, site, output.sub(input));
    }

    /**
     * This probe, with {@code onStep} told the index of each step as its first activation arrives (progress bars,
     * periodic measurements). The listener only hears steps at which {@code inner} wants some site.
     */
    static ActivationProbe onEachStep(ActivationProbe inner, java.util.function.IntConsumer onStep) {
        return new StepNotifyingProbe(inner, onStep);
    }

    /** Called by the sampler after the last step of a run. */
    default void endRun() {
    }
}
