package io.ditcache.policy;

import static io.ditcache.policy.IntervalPoliciesTest.assertRejected;
import static io.ditcache.policy.PolicyDriver.COND;
import static io.ditcache.policy.PolicyDriver.GUIDED;
import static io.ditcache.policy.PolicyDriver.SILENT;
import static io.ditcache.policy.PolicyDriver.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import io.ditcache.RedundancyProfile;
import io.ditcache.policy.PolicyDriver.Decisions;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** MagCache with known ratio curves. */
class MagCachePolicyTest {
    /** Ten steps: gamma_i = RATIOS[i - 1]. */
    static final double[] RATIOS = {1.0, 1.0, 0.9, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0};

    @Test
    void skipsExactlyWhileTheAccumulatedErrorStaysBelowThreshold() {
        // Retention 0.2 of 10: steps 0, 1 compute. Step 2: product 1, error 0: skip. Step 3: product 0.9, error
        // 0.1: skip. Step 4: product 0.855, error 0.245 >= 0.12: compute, restart. Steps 5, 6 skip; step 7 would
        // be the third consecutive skip (K = 2): compute. Steps 8, 9 skip.
        Decisions d = run(new MagCachePolicy(0.12, RATIOS), 10, 3, COND, SILENT);
        for (int layer = 0; layer < 3; layer++) {
            assertEquals("CCRRCRRCRR", d.steps(0, layer), "layer " + layer);
        }
        assertEquals("CCRRCRRRRR", run(new MagCachePolicy(0.12, 5, 0.2, RATIOS, null), 10, 1, COND, SILENT)
                .steps(0, 0), "K = 5 lets the run of unit ratios go on");
        assertEquals("CCCCCRRCRR", run(new MagCachePolicy(0.12, 2, 0.5, RATIOS, null), 10, 1, COND, SILENT)
                .steps(0, 0), "retention 0.5: steps 0..4 compute");
        // Threshold 0.09: error 0.1 at step 3 computes; step 4 restarts at 0.95 (error 0.05, skip), step 5 keeps
        // the product at 0.95 (error 0.1, compute); then two unit-ratio skips and K again.
        assertEquals("CCRCRCRRCR", run(new MagCachePolicy(0.09, RATIOS), 10, 1, COND, SILENT).steps(0, 0));
    }

    @Test
    void branchesUseTheirOwnRatiosAndState() {
        double[] ones = new double[9];
        Arrays.fill(ones, 1.0);
        double[] far = ones.clone();
        Arrays.fill(far, 1.5);
        Decisions d = run(new MagCachePolicy(0.12, 2, 0.2, ones, far), 10, 2, GUIDED, SILENT);
        assertEquals("CCRRCRRCRR", d.steps(0, 1), "COND");
        assertEquals("CCCCCCCCCC", d.steps(1, 1), "UNCOND: error 0.5 at once");
    }

    @Test
    void resetRestartsTheSkipCount() {
        MagCachePolicy p = new MagCachePolicy(0.5, 2, 0.0, new double[] {1.0}, null);
        assertEquals(Decision.REUSE_BLOCK, p.decide(new Query(1, 10, 0, 2, Branch.COND, 0)));
        assertEquals(Decision.REUSE_BLOCK, p.decide(new Query(2, 10, 0, 2, Branch.COND, 0)));
        p.reset();
        assertEquals(Decision.REUSE_BLOCK, p.decide(new Query(3, 10, 0, 2, Branch.COND, 0)),
                "a third skip after reset");
        assertEquals(Decision.REUSE_BLOCK, p.decide(new Query(4, 10, 0, 2, Branch.COND, 0)));
        assertEquals(Decision.COMPUTE, p.decide(new Query(5, 10, 0, 2, Branch.COND, 0)), "K = 2");
    }

    @Test
    void ratiosAreResampledToTheRunsStepCount() {
        double[] line = new double[9]; // u = j/8: 1 + 0.08 u
        for (int j = 0; j < line.length; j++) {
            line[j] = 1 + 0.01 * j;
        }
        MagCachePolicy p = new MagCachePolicy(0.1, line);
        for (int i = 1; i < 19; i++) {
            assertEquals(1 + 0.08 * (i - 1) / 17, p.ratio(Branch.COND, i, 19), 1e-12, "step " + i);
        }
        assertEquals(1.08, p.ratio(Branch.UNCOND, 4, 5), 1e-12, "the last transition of a 5-step run is u = 1");
        assertEquals(1.03, p.ratio(Branch.COND, 4, 10), 0.0, "a curve of the run's length is used as it is");
    }

    @Test
    void ratiosComeFromTheProfilesBlockResidualNormRatioAveragedOverLayers() {
        RedundancyProfile guided = SyntheticProfiles.profile(true);
        double[] cond = MagCachePolicy.ratios(guided, Branch.COND);
        double[] uncond = MagCachePolicy.ratios(guided, Branch.UNCOND);
        assertEquals(SyntheticProfiles.STEPS - 1, cond.length);
        for (int s = 0; s < cond.length; s++) {
            assertEquals(SyntheticProfiles.ratio(Branch.COND, s), cond[s], 1e-12);
            assertEquals(SyntheticProfiles.ratio(Branch.UNCOND, s), uncond[s], 1e-12);
        }
        MagCachePolicy p = MagCachePolicy.fromProfile(guided, 0.1, 2, 0.2);
        assertArrayEquals(cond, p.ratios(), 0.0);
        assertArrayEquals(uncond, p.unconditionalRatios(), 0.0);
        MagCachePolicy single = MagCachePolicy.fromProfile(SyntheticProfiles.profile(false), 0.1, 2, 0.2);
        assertArrayEquals(single.ratios(), single.unconditionalRatios(), 0.0, "COND serves both without UNCOND");
    }

    @Test
    void profileProblemsAreNamed() {
        RedundancyProfile empty = new RedundancyProfile(Map.of(), Map.of(), 2, 10);
        assertRejected(() -> MagCachePolicy.ratios(empty, Branch.COND), "BLOCK_RESIDUAL/IMAGE/COND/NORM_RATIO");
        RedundancyProfile hole = new RedundancyProfile(Map.of(), Map.of(), 2, 4);
        SyntheticProfiles.addRatios(hole, Branch.COND, s -> s == 1 ? Double.NaN : 1.0);
        assertRejected(() -> MagCachePolicy.ratios(hole, Branch.COND), "column 1", "step 1 to 2");
    }

    @Test
    void thresholdZeroOrNoSkipsComputesEverything() {
        assertTrue(run(new MagCachePolicy(0, RATIOS), 10, 2, GUIDED, SILENT).allCompute());
        assertTrue(run(new MagCachePolicy(5, 0, 0.0, RATIOS, null), 10, 2, GUIDED, SILENT).allCompute());
    }

    @Test
    void badParametersAreRejected() {
        assertRejected(() -> new MagCachePolicy(-0.1, RATIOS), "magcache", "threshold", "-0.1");
        assertRejected(() -> new MagCachePolicy(0.1, -1, 0.2, RATIOS, null), "maxSkips", ">= 0", "-1");
        assertRejected(() -> new MagCachePolicy(0.1, 2, 1.5, RATIOS, null), "retention", "[0.0, 1.0]", "1.5");
        assertRejected(() -> new MagCachePolicy(0.1, new double[] {1, 0}), "ratios[1]", "> 0", "0.0");
        assertRejected(() -> new MagCachePolicy(0.1, 2, 0.2, RATIOS, new double[] {Double.NaN}),
                "unconditionalRatios[0]", "NaN");
    }

    @Test
    void aWholeModelProfiledPerStepGivesRatiosFromItsOutput() {
        // a profile of an opaque model (one block, BlockLayout.wholeModel): its output's norm ratio per step
        RedundancyProfile p = new RedundancyProfile(java.util.Map.of("name", "opaque"), java.util.Map.of("name",
                "ddim"), 1, 6);
        double[] expected = {0.9, 0.95, 1.0, 1.05, 1.1};
        for (int s = 0; s < 5; s++) {
            p.add(SyntheticProfiles.key(io.ditcache.SiteKind.BLOCK_OUT, Branch.COND,
                    io.ditcache.DistanceMetric.NORM_RATIO), 0, s, expected[s]);
        }
        assertArrayEquals(expected, MagCachePolicy.ratios(p, Branch.COND), 0.0);
        MagCachePolicy policy = MagCachePolicy.fromProfile(p, 0.1, 2, 0.2);
        assertArrayEquals(expected, policy.unconditionalRatios(), 0.0, "COND serves both");
    }
}
