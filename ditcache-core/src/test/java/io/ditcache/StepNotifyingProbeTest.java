package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepNotifyingProbeTest {
    @Test
    void listenerHearsEachStepOnceAndObservationsPassThrough() {
        List<String> seen = new ArrayList<>();
        ActivationProbe inner = (step, site, t) -> seen.add(step.index() + ":" + site.layer());
        List<Integer> steps = new ArrayList<>();
        ActivationProbe p = ActivationProbe.onEachStep(inner, steps::add);
        for (int i = 0; i < 3; i++) {
            for (int layer = 0; layer < 2; layer++) {
                p.observe(Step.conditional(i, 3, 0, 1), Site.of(layer, SiteKind.K), null);
            }
        }
        p.endRun();
        p.observe(Step.conditional(0, 3, 0, 1), Site.of(0, SiteKind.K), null);
        assertEquals(List.of(0, 1, 2, 0), steps, "a new run starts afresh");
        assertEquals(List.of("0:0", "0:1", "1:0", "1:1", "2:0", "2:1", "0:0"), seen);
    }

    @Test
    void residualsPassThroughAsResiduals() {
        List<String> seen = new ArrayList<>();
        ActivationProbe inner = new ActivationProbe() {
            @Override
            public void observe(Step step, Site site, org.bytedeco.pytorch.Tensor t) {
                seen.add("observe " + step.index());
            }

            @Override
            public void observeResidual(Step step, Site site, org.bytedeco.pytorch.Tensor out,
                    org.bytedeco.pytorch.Tensor in) {
                seen.add("residual " + step.index());
            }
        };
        List<Integer> steps = new ArrayList<>();
        ActivationProbe p = ActivationProbe.onEachStep(inner, steps::add);
        p.observeResidual(Step.conditional(0, 2, 0, 1), Site.of(0, SiteKind.BLOCK_RESIDUAL), null, null);
        p.observe(Step.conditional(1, 2, 0, 1), Site.of(0, SiteKind.K), null);
        p.observeResidual(Step.conditional(1, 2, 0, 1), Site.of(0, SiteKind.BLOCK_RESIDUAL), null, null);
        assertEquals(List.of("residual 0", "observe 1", "residual 1"), seen, "not turned into a subtraction");
        assertEquals(List.of(0, 1), steps, "a residual can begin a step");
    }
}
