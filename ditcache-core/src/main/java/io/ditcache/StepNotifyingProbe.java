package io.ditcache;

import java.util.Objects;
import java.util.function.IntConsumer;
import org.bytedeco.pytorch.Tensor;

/** Passes everything to a probe and tells a listener when a call with a new step index begins. */
final class StepNotifyingProbe implements ActivationProbe {
    private final ActivationProbe inner;
    private final IntConsumer onStep;
    private int lastStep = -1;

    StepNotifyingProbe(ActivationProbe inner, IntConsumer onStep) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.onStep = Objects.requireNonNull(onStep, "onStep");
    }

    @Override
    public boolean wants(Site site) {
        return inner.wants(site);
    }

    @Override
    public void observe(Step step, Site site, Tensor activation) {
        tellStep(step);
        inner.observe(step, site, activation);
    }

    @Override
    public void observeResidual(Step step, Site site, Tensor output, Tensor input) {
        tellStep(step);
        inner.observeResidual(step, site, output, input);
    }

    private void tellStep(Step step) {
        if (step.index() != lastStep) {
            lastStep = step.index();
            onStep.accept(step.index());
        }
    }

    @Override
    public void endRun() {
        inner.endRun();
        lastStep = -1;
    }
}
