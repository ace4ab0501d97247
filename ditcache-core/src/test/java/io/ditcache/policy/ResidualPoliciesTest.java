package io.ditcache.policy;

import static io.ditcache.policy.IntervalPoliciesTest.assertRejected;
import static io.ditcache.policy.PolicyDriver.COND;
import static io.ditcache.policy.PolicyDriver.GUIDED;
import static io.ditcache.policy.PolicyDriver.PAIR;
import static io.ditcache.policy.PolicyDriver.constant;
import static io.ditcache.policy.PolicyDriver.perStep;
import static io.ditcache.policy.PolicyDriver.play;
import static io.ditcache.policy.PolicyDriver.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.SignalRequest;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import io.ditcache.policy.PolicyDriver.Decisions;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** FBCache and DBCache on scripted FIRST_BLOCKS_RESIDUAL_CHANGE signals. */
class ResidualPoliciesTest {
    static final double N = Double.NaN; // nothing measured

    @Test
    void fbcacheReusesLaterBlocksWhileTheSignalIsBelowThreshold() {
        FirstBlockResidualPolicy p = new FirstBlockResidualPolicy(0.1);
        assertEquals(Set.of(SignalRequest.firstBlocksResidual(0)), p.signals());
        Decisions d = run(p, 6, 3, COND, perStep(new double[] {N, 0.05, 0.2, 0.08, 0.09, 0.3}));
        assertEquals("CCCCCC", d.steps(0, 0), "block 0 always computes");
        assertEquals("CRCRRC", d.steps(0, 1));
        assertEquals("CRCRRC", d.steps(0, 2));
    }

    @Test
    void fbcacheStopsReusingAtTheStepTheSignalCrossesTheThreshold() {
        Decisions d = run(new FirstBlockResidualPolicy(0.035), 8, 2, COND, (s, step, row) -> 0.01 * step);
        assertEquals("CRRRCCCC", d.steps(0, 1), "0.04 at step 4 is the first value above 0.035");
    }

    @Test
    void fbcacheComputesWhereNothingOrNaNWasMeasured() {
        FirstBlockResidualPolicy p = new FirstBlockResidualPolicy(0.1);
        assertEquals("CRRCRR", run(p, 6, 2, COND, perStep(new double[] {N, 0.01, 0.01, N, 0.01, 0.01}))
                .steps(0, 1), "no signal at step 3");
        assertEquals("CRRCRR", run(p, 6, 2, COND, (s, step, row) -> step == 3 ? Double.NaN : 0.01)
                .steps(0, 1), "NaN at step 3");
    }

    @Test
    void fbcacheKeepsBranchesAndSamplesApart() {
        double[] low = {N, 0.01, 0.01, 0.01, 0.01};
        double[] high = {N, 0.5, 0.01, 0.5, 0.01};
        Decisions guided = run(new FirstBlockResidualPolicy(0.1), 5, 2, GUIDED, perStep(low, high));
        assertEquals("CRRRR", guided.steps(0, 1), "COND");
        assertEquals("CCRCR", guided.steps(1, 1), "UNCOND");
        Decisions pair = run(new FirstBlockResidualPolicy(0.1), 5, 2, PAIR, perStep(high, low));
        assertEquals("CCRCR", pair.steps(0, 1), "sample 0");
        assertEquals("CRRRR", pair.steps(1, 1), "sample 1");
    }

    @Test
    void fbcacheResetForgetsTheObservedSignal() {
        FirstBlockResidualPolicy p = new FirstBlockResidualPolicy(0.1);
        Query q = new Query(2, 5, 1, 3, Branch.COND, 0);
        p.observe(SignalRequest.firstBlocksResidual(0), new Query(2, 5, 0, 3, Branch.COND, 0), 0.01);
        assertEquals(Decision.REUSE_BLOCK, p.decide(q));
        assertEquals(Decision.COMPUTE, p.decide(new Query(2, 5, 1, 3, Branch.UNCOND, 0)), "other branch");
        assertEquals(Decision.COMPUTE, p.decide(new Query(2, 5, 1, 3, Branch.COND, 1)), "other sample");
        p.reset();
        assertEquals(Decision.COMPUTE, p.decide(q));
        p.observe(SignalRequest.firstBlocksResidual(0), new Query(0, 5, 0, 3, Branch.COND, 0), 0.01);
        assertEquals(Decision.COMPUTE, p.decide(new Query(0, 5, 1, 3, Branch.COND, 0)), "step 0 computes");
    }

    /** Fn 2, Bn 1 of 5 layers: middle blocks 2 and 3. */
    static Decisions dual(DualBlockPolicy p, PolicyDriver.Script script) {
        Decisions d = run(p, 10, 5, COND, script);
        for (int layer : new int[] {0, 1, 4}) {
            assertEquals("CCCCCCCCCC", d.steps(0, layer), "Fn and Bn blocks always compute, layer " + layer);
        }
        assertEquals(d.steps(0, 2), d.steps(0, 3), "middle blocks decide together");
        return d;
    }

    @Test
    void dbcacheAppliesWarmupAndCaps() {
        PolicyDriver.Script low = constant(0.01);
        assertEquals("CRRRRRRRRR", dual(new DualBlockPolicy(2, 1, 0.1), low).steps(0, 2));
        assertEquals("CCCRRRRRRR", dual(new DualBlockPolicy(2, 1, 0.1, 3, -1, -1), low).steps(0, 2), "warm-up 3");
        assertEquals("CRRRRCCCCC", dual(new DualBlockPolicy(2, 1, 0.1, 0, 4, -1), low).steps(0, 2),
                "at most 4 cached steps");
        assertEquals("CRRCRRCRRC", dual(new DualBlockPolicy(2, 1, 0.1, 0, -1, 2), low).steps(0, 2),
                "at most 2 consecutive cached steps");
        assertEquals("CRRCRCCCCC", dual(new DualBlockPolicy(2, 1, 0.1, 0, 3, 2), low).steps(0, 2), "both caps");
        assertEquals("CCCCCCCCCC", dual(new DualBlockPolicy(2, 1, 0.1, 0, 0, -1), low).steps(0, 2), "cap 0");
    }

    @Test
    void dbcacheThresholdCrossingEndsARunOfCachedSteps() {
        double[] signal = {N, 0.01, 0.01, 0.01, 0.2, 0.01, 0.01, 0.01, 0.01, 0.01};
        assertEquals("CRRCCRRCRR", dual(new DualBlockPolicy(2, 1, 0.1, 0, -1, 2), perStep(signal)).steps(0, 2));
    }

    @Test
    void dbcacheCountsCapsPerRow() {
        double[] cond = {N, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
        double[] uncond = {N, 0.5, 0.01, 0.01, 0.01, 0.5, 0.01, 0.01, 0.01, 0.01};
        DualBlockPolicy p = new DualBlockPolicy(2, 1, 0.1, 0, -1, 2);
        assertEquals(2, p.firstBlocks());
        assertEquals(Set.of(SignalRequest.firstBlocksResidual(1)), p.signals());
        Decisions d = run(p, 10, 5, GUIDED, perStep(cond, uncond));
        assertEquals("CRRCRRCRRC", d.steps(0, 2), "COND as if alone");
        assertEquals("CCRRCCRRCR", d.steps(1, 3), "UNCOND");
        Decisions pair = run(new DualBlockPolicy(2, 1, 0.1, 0, 3, -1), 10, 5, PAIR, perStep(uncond, cond));
        assertEquals("CCRRRCCCCC", pair.steps(0, 2), "sample 0 reaches its cap later");
        assertEquals("CRRRCCCCCC", pair.steps(1, 2), "sample 1");
    }

    @Test
    void dbcacheResetRestartsTheCaps() {
        DualBlockPolicy p = new DualBlockPolicy(2, 1, 0.1, 0, 4, -1);
        assertEquals("CRRRRCCCCC", run(p, 10, 5, COND, constant(0.01)).steps(0, 2));
        assertEquals("CCCCCCCCCC", play(p, 10, 5, COND, constant(0.01)).steps(0, 2), "cap used up without reset");
        assertEquals("CRRRRCCCCC", run(p, 10, 5, COND, constant(0.01)).steps(0, 2));
    }

    @Test
    void dbcacheWithoutMiddleBlocksComputesEverything() {
        assertTrue(run(new DualBlockPolicy(3, 2, 0.5), 6, 5, GUIDED, constant(0.01)).allCompute());
    }

    @Test
    void thresholdZeroComputesEverything() {
        assertTrue(run(new FirstBlockResidualPolicy(0), 6, 3, GUIDED, constant(0.0)).allCompute());
        assertTrue(run(new DualBlockPolicy(1, 0, 0), 6, 3, GUIDED, constant(0.0)).allCompute());
    }

    @Test
    void badParametersAreRejected() {
        assertRejected(() -> new FirstBlockResidualPolicy(-0.1), "fbcache", "threshold", ">= 0", "-0.1");
        assertRejected(() -> new FirstBlockResidualPolicy(Double.POSITIVE_INFINITY), "threshold", "Infinity");
        assertRejected(() -> new DualBlockPolicy(0, 0, 0.1), "dbcache", "firstBlocks", ">= 1", "got 0");
        assertRejected(() -> new DualBlockPolicy(1, -1, 0.1), "lastBlocks", ">= 0", "-1");
        assertRejected(() -> new DualBlockPolicy(1, 0, 0.1, -1, -1, -1), "warmupSteps", "-1");
        assertRejected(() -> new DualBlockPolicy(1, 0, 0.1, 0, -2, -1), "maxCachedSteps", "-1 (no cap)", "-2");
        assertRejected(() -> new DualBlockPolicy(1, 0, 0.1, 0, -1, -5), "maxContinuousCachedSteps", "-5");
    }
}
