package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.internal.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class ActivationProbeTest {
    /** A probe that does not take residuals itself observes output minus input. */
    @Test
    void aResidualIsObservedAsOutputMinusInputByDefault() {
        List<float[]> seen = new ArrayList<>();
        List<Site> sites = new ArrayList<>();
        ActivationProbe probe = (step, site, t) -> {
            sites.add(site);
            seen.add(Tensors.toFloats(t));
        };
        Site residual = Site.of(2, SiteKind.BLOCK_RESIDUAL);
        try (PointerScope scope = new PointerScope()) {
            Tensor out = Tensors.fromFloats(new float[] {1.5f, -2f, 3f, 0.25f}, 1, 2, 2);
            Tensor in = Tensors.fromFloats(new float[] {0.5f, 1f, 3f, -0.75f}, 1, 2, 2);
            probe.observeResidual(Step.conditional(0, 1, 0, 1), residual, out, in);
        }
        assertEquals(List.of(residual), sites);
        assertArrayEquals(new float[] {1f, -3f, 0f, 1f}, seen.get(0));
    }
}
