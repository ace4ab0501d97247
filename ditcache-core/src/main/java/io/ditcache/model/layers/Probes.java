package io.ditcache.model.layers;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.Step;
import org.bytedeco.pytorch.Tensor;

/** Reports activations to a probe that wants them. */
public final class Probes {
    private Probes() {
    }

    /** Calls {@code probe.observe} if the probe wants {@code site}. */
    public static void observe(ActivationProbe probe, Step step, Site site, Tensor t) {
        if (probe.wants(site)) {
            probe.observe(step, site, t);
        }
    }
}
