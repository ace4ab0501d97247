package io.ditcache.model.layers;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.Step;
import org.bytedeco.pytorch.Tensor;

/** Reports activations to a probe that wants them. */
public final class Probes {
    private Probes() {
    }

    /**
     * Reports a block's output ({@code BLOCK_OUT}) and, computing it only if wanted, its residual
     * ({@code BLOCK_RESIDUAL} = output minus input) on the image stream.
     */
    public static void blockOutput(ActivationProbe probe, Step step, int layer, Tensor input, Tensor out) {
        observe(probe, step, Site.of(layer, io.ditcache.SiteKind.BLOCK_OUT), out);
        Site residual = Site.of(layer, io.ditcache.SiteKind.BLOCK_RESIDUAL);
        if (probe.wants(residual)) {
            probe.observeResidual(step, residual, out, input);
        }
    }

    /** Calls {@code probe.observe} if the probe wants {@code site}. */
    public static void observe(ActivationProbe probe, Step step, Site site, Tensor t) {
        if (probe.wants(site)) {
            probe.observe(step, site, t);
        }
    }
}
