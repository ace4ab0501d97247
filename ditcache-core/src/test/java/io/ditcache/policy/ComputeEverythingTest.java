package io.ditcache.policy;

import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every policy at its "compute everything" setting samples bit for bit what uncached sampling does on the DiT
 * (guided, two samples, DDIM and DPM-Solver++), and the same policy at an aggressive setting does not
 * ({@link PolicyContract}).
 */
class ComputeEverythingTest {
    static final int STEPS = 8;

    @Test
    void everyPolicyThatComputesEverythingIsBitExact() {
        DiTModel model = new DiTModel(new DiTConfig(8, 2, 1, 1, 4, 2, 8, 3, 1e-5, true));
        DiTInit.variancePreserving(model, 11);
        SamplingOptions options = new SamplingOptions(List.of(new Condition(0, 3), new Condition(2, 4)), STEPS,
                3.0);
        for (String scheduler : List.of("ddim", "dpm++")) {
            PolicyContract.check(model, scheduler, Map.of(), options);
        }
    }
}
