package io.ditcache.policy;

import static io.ditcache.policy.PolicyDriver.COND;
import static io.ditcache.policy.PolicyDriver.GUIDED;
import static io.ditcache.policy.PolicyDriver.SILENT;
import static io.ditcache.policy.PolicyDriver.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Approximation;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import io.ditcache.policy.PolicyDriver.Decisions;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** FORA, Δ-DiT, PAB and TaylorSeer: fixed schedules, no signals. */
class IntervalPoliciesTest {
    static void assertRejected(Executable make, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention '" + part + "'");
        }
    }

    @Test
    void foraReusesAttentionAndMlpBetweenEveryNthStep() {
        Decisions d = run(new IntervalPolicy(3), 7, 4, GUIDED, SILENT);
        for (int row = 0; row < 2; row++) {
            for (int layer = 0; layer < 4; layer++) {
                assertEquals("CBBCBBC", d.steps(row, layer));
            }
        }
        assertTrue(run(new IntervalPolicy(1), 7, 4, GUIDED, SILENT).allCompute());
        assertTrue(new IntervalPolicy(3).signals().isEmpty());
    }

    @Test
    void deltaDitSkipsTheBlockRangeInsideTheStepWindow() {
        Decisions d = run(new BlockRangePolicy(1, 3, 2, 2, 7), 8, 4, COND, SILENT);
        assertEquals("CCCCCCCC", d.steps(0, 0), "before the range");
        assertEquals("CCCRCRCC", d.steps(0, 1), "interval counted from fromStep 2, window ends before step 7");
        assertEquals("CCCRCRCC", d.steps(0, 2));
        assertEquals("CCCCCCCC", d.steps(0, 3), "endBlock is exclusive");

        Decisions whole = run(new BlockRangePolicy(2, -1, 3), 7, 4, COND, SILENT);
        assertEquals("CCCCCCC", whole.steps(0, 1));
        assertEquals("CRRCRRC", whole.steps(0, 3), "endBlock -1 reaches the last block, toStep -1 the last step");
        assertTrue(run(new BlockRangePolicy(0, -1, 1), 7, 4, GUIDED, SILENT).allCompute());
    }

    @Test
    void pabReusesAttentionInsideTheWindowCountingFromItsFirstStep() {
        Decisions d = run(new PyramidAttentionPolicy(3), 11, 2, GUIDED, SILENT);
        // u = i/10: the default window [0.1, 0.9] is steps 1..9; computes at 1, 4, 7.
        assertEquals("CCAACAACAAC", d.steps(0, 0));
        assertEquals("CCAACAACAAC", d.steps(1, 1));
        assertTrue(new PyramidAttentionPolicy(3).decide(new Query(2, 11, 0, 2, Branch.COND, 0)).equals(
                Decision.reuse(BlockPart.SELF_ATTENTION)), "the MLP always runs");

        // u = i/5; start 0.3 falls between steps: the window starts at step 2 (u = 0.4).
        assertEquals("CCCACA", run(new PyramidAttentionPolicy(2, 0.3, 1.0), 6, 1, COND, SILENT).steps(0, 0));
        assertEquals("CACCCC", run(new PyramidAttentionPolicy(5, 0.0, 0.2), 6, 1, COND, SILENT).steps(0, 0),
                "end is inclusive");
        assertTrue(run(new PyramidAttentionPolicy(1), 11, 2, GUIDED, SILENT).allCompute());
    }

    @Test
    void taylorSeerWarmsUpThenComputesEveryNthStepWithTaylorApproximation() {
        TaylorSeerPolicy p = new TaylorSeerPolicy(3, 2, 1);
        Decisions d = run(p, 9, 3, GUIDED, SILENT);
        for (int layer = 0; layer < 3; layer++) {
            assertEquals("CCCRRCRRC", d.steps(1, layer));
        }
        assertEquals(Approximation.taylor(1), p.approximation());
        assertEquals(Approximation.taylor(2), new TaylorSeerPolicy(4).approximation(), "default order 2");
        assertEquals("CCCCRRRC", run(new TaylorSeerPolicy(4), 8, 1, COND, SILENT).steps(0, 0), "default warm-up 3");
        assertTrue(run(new TaylorSeerPolicy(1), 9, 3, GUIDED, SILENT).allCompute());
    }

    @Test
    void approximatedPolicyKeepsTheWhenAndChangesTheHow() {
        ApproximatedPolicy p = new ApproximatedPolicy(new IntervalPolicy(2), Approximation.taylor(2));
        assertEquals("fora+taylor2", p.name());
        assertEquals(Approximation.taylor(2), p.approximation());
        assertEquals("fora+taylor2", p.describe().get("name"));
        assertEquals(2, p.describe().get("interval"));
        PolicyDriver.assertSameDecisions(new IntervalPolicy(2), p, 7, 3, GUIDED, SILENT);
        FirstBlockResidualPolicy fb = new FirstBlockResidualPolicy(0.1);
        PolicyDriver.assertDelegates(fb, Policies.withApproximation(fb, Approximation.taylor(1)));
        assertEquals("taylorseer+reuse", new ApproximatedPolicy(new TaylorSeerPolicy(2), Approximation.REUSE).name());
    }

    @Test
    void badParametersAreRejectedWithNameValueAndRange() {
        assertRejected(() -> new IntervalPolicy(0), "fora", "interval", ">= 1", "0");
        assertRejected(() -> new BlockRangePolicy(-1, 3, 2), "firstBlock", "-1", ">= 0");
        assertRejected(() -> new BlockRangePolicy(3, 3, 2), "endBlock", ">= 4", "got 3");
        assertRejected(() -> new BlockRangePolicy(0, -1, 2, 5, 5), "toStep", ">= 6", "got 5");
        assertRejected(() -> new BlockRangePolicy(0, -1, 2, -2, -1), "fromStep", "-2");
        assertRejected(() -> new PyramidAttentionPolicy(2, 0.5, 0.4), "end", "[0.5, 1.0]", "0.4");
        assertRejected(() -> new PyramidAttentionPolicy(2, -0.1, 0.4), "start", "[0.0, 1.0]", "-0.1");
        assertRejected(() -> new PyramidAttentionPolicy(2, Double.NaN, 0.4), "start", "NaN");
        assertRejected(() -> new TaylorSeerPolicy(2, 1, 3), "order", "[1, 2]", "3");
        assertRejected(() -> new TaylorSeerPolicy(2, -1, 2), "warmupSteps", "-1");
        assertEquals(Set.of(), new TaylorSeerPolicy(2).signals());
    }

    @Test
    void pabKeepsSeparateRangesForSelfTemporalAndCrossAttention() {
        // Latte-like: a spatial block (self, cross, feed-forward) then a temporal one (self, feed-forward)
        java.util.Set<BlockPart> spatial = java.util.EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                BlockPart.FEED_FORWARD);
        io.ditcache.BlockLayout latte = new io.ditcache.BlockLayout(java.util.List.of(
                new io.ditcache.Block(0, io.ditcache.BlockGroup.SPATIAL, spatial, false, true, 2),
                new io.ditcache.Block(1, io.ditcache.BlockGroup.TEMPORAL, java.util.EnumSet.of(
                        BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD), false, true, 1)));
        PyramidAttentionPolicy p = new PyramidAttentionPolicy(2, 0.0, 1.0, 3, 4);
        StringBuilder self = new StringBuilder();
        StringBuilder cross = new StringBuilder();
        StringBuilder temporal = new StringBuilder();
        for (int step = 0; step < 9; step++) {
            Decision s = p.decide(new Query(step, 9, Double.NaN, latte, 0, Branch.COND, 0));
            Decision t = p.decide(new Query(step, 9, Double.NaN, latte, 1, Branch.COND, 0));
            self.append(s.reuses(BlockPart.SELF_ATTENTION) ? 'R' : 'C');
            cross.append(s.reuses(BlockPart.CROSS_ATTENTION) ? 'R' : 'C');
            temporal.append(t.reuses(BlockPart.SELF_ATTENTION) ? 'R' : 'C');
            assertTrue(!s.reuses(BlockPart.FEED_FORWARD) && !t.reuses(BlockPart.FEED_FORWARD));
        }
        assertEquals("CRCRCRCRC", self.toString());
        assertEquals("CRRRCRRRC", cross.toString());
        assertEquals("CRRCRRCRR", temporal.toString());
        assertEquals(Decision.COMPUTE, new PyramidAttentionPolicy(2, 0.0, 1.0).decide(new Query(1, 9, Double.NaN,
                latte, 1, Branch.COND, 0)), "temporal attention is not reused unless given a range");
    }

    @Test
    void foraReusesEveryPartTheBlockHas() {
        java.util.Set<BlockPart> joint = java.util.EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION,
                BlockPart.FEED_FORWARD, BlockPart.CONTEXT_FEED_FORWARD);
        io.ditcache.BlockLayout sd3 = io.ditcache.BlockLayout.of(2, i -> new io.ditcache.Block(i,
                io.ditcache.BlockGroup.JOINT, joint, true, true, 1));
        assertEquals(Decision.reuse(joint), new IntervalPolicy(2).decide(new Query(1, 4, 500, sd3, 1, Branch.COND,
                0)));
        assertEquals(Decision.REUSE_BLOCK, new IntervalPolicy(2).decide(new Query(1, 4, 500,
                io.ditcache.BlockLayout.wholeModel(), 0, Branch.COND, 0)), "a whole model is reused whole");
    }
}
