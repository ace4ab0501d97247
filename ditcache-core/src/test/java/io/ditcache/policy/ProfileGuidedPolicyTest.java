package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Approximation;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProfileGuidedPolicyTest {
    private static final ComputeMask MASK = MaskPlanner.forBudget(ResidualProfiles.of(new double[][] {
        {0.1, 0.01, 0.2, 0.02, 0.3, 0.5}, {0.05, 0.4, 0.03, 0.6, 0.01, 0.7}, {0.2, 0.2, 0.2, 0.2, 0.2, 0.2}}), 7, 0.6);

    @Test
    void decisionsFollowTheMaskForBothBranchesAndEverySample() {
        CachePolicy policy = new ProfileGuidedPolicy(MASK);
        policy.reset();
        int reused = 0;
        for (int step = 0; step < 7; step++) {
            for (Branch branch : Branch.values()) {
                for (int sample = 0; sample < 2; sample++) {
                    for (int layer = 0; layer < 3; layer++) {
                        Decision d = policy.decide(new Query(step, 7, layer, 3, branch, sample));
                        assertEquals(MASK.computes(step, layer) ? Decision.COMPUTE : Decision.REUSE_BLOCK, d,
                                "step " + step + ", layer " + layer + ", " + branch + ", sample " + sample);
                        reused += d == Decision.REUSE_BLOCK ? 1 : 0;
                    }
                }
            }
        }
        assertEquals((21 - MASK.computedCount()) * 4, reused);
        assertTrue(reused > 0);
        assertEquals(Approximation.REUSE, policy.approximation());
        assertTrue(policy.signals().isEmpty());
    }

    @Test
    void aRunOfOtherStepsOrLayersIsRefused() {
        CachePolicy policy = new ProfileGuidedPolicy(MASK);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> policy.decide(new Query(0, 8, 0, 3, Branch.COND, 0)));
        assertTrue(e.getMessage().contains("8 steps") && e.getMessage().contains("7 steps"), e.getMessage());
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                () -> policy.decide(new Query(0, 7, 0, 4, Branch.UNCOND, 1)));
        assertTrue(l.getMessage().contains("4 layers") && l.getMessage().contains("3 layers"), l.getMessage());
    }

    @Test
    void describesItsCriterionAndFraction() {
        ProfileGuidedPolicy policy = new ProfileGuidedPolicy(MASK);
        assertEquals("profile-guided", policy.name());
        Map<String, Object> d = policy.describe();
        assertEquals("profile-guided", d.get("name"));
        assertEquals(0.6, d.get("budget"));
        assertEquals(MASK.computedFraction(), d.get("computed_fraction"));
        assertEquals(MASK.estimatedError(), d.get("estimated_error"));
        assertEquals("reuse", d.get("approximation"));
        ComputeMask target = MaskPlanner.forTarget(ResidualProfiles.of(new double[][] {{0.1, 0.2, 0.3}}), 4, 0.25);
        Map<String, Object> t = new ProfileGuidedPolicy(target).describe();
        assertEquals(0.25, t.get("target_error"));
        assertTrue(!t.containsKey("budget"));
    }

    @Test
    void composesWithTaylorApproximation() {
        ProfileGuidedPolicy plain = new ProfileGuidedPolicy(MASK);
        ProfileGuidedPolicy taylor = plain.withApproximation(Approximation.taylor(2));
        assertEquals(Approximation.taylor(2), taylor.approximation());
        assertEquals(Approximation.REUSE, plain.approximation());
        assertSame(MASK, taylor.mask());
        assertEquals("taylor2", taylor.describe().get("approximation"));
        for (int step = 0; step < 7; step++) {
            for (int layer = 0; layer < 3; layer++) {
                Query q = new Query(step, 7, layer, 3, Branch.UNCOND, 1);
                assertEquals(plain.decide(q), taylor.decide(q));
            }
        }
        assertEquals(Approximation.taylor(1),
                new ProfileGuidedPolicy(MASK, Approximation.taylor(1)).approximation());
    }
}
