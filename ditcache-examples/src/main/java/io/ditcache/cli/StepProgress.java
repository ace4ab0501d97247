package io.ditcache.cli;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.Step;
import me.tongfei.progressbar.ProgressBar;
import org.bytedeco.pytorch.Tensor;

/** Passes everything to a probe and moves a terminal progress bar (with ETA) one tick per sampling step. */
final class StepProgress implements ActivationProbe {
    private final ActivationProbe inner;
    private final ProgressBar bar;
    private int lastStep = -1;

    StepProgress(ActivationProbe inner, ProgressBar bar) {
        this.inner = inner;
        this.bar = bar;
    }

    @Override
    public boolean wants(Site site) {
        return inner.wants(site);
    }

    @Override
    public void observe(Step step, Site site, Tensor activation) {
        if (step.index() != lastStep) {
            lastStep = step.index();
            bar.step();
        }
        inner.observe(step, site, activation);
    }

    @Override
    public void endRun() {
        inner.endRun();
        lastStep = -1;
    }
}
