package io.ditcache.policy;

import static io.ditcache.policy.IntervalPoliciesTest.assertRejected;
import static io.ditcache.policy.PolicyDriver.COND;
import static io.ditcache.policy.PolicyDriver.GUIDED;
import static io.ditcache.policy.PolicyDriver.PAIR;
import static io.ditcache.policy.PolicyDriver.constant;
import static io.ditcache.policy.PolicyDriver.perStep;
import static io.ditcache.policy.PolicyDriver.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import io.ditcache.SignalRequest;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.policy.PolicyDriver.Decisions;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** TeaCache's accumulation on scripted signals, and its polynomial fit on profiles with a known answer. */
class TeaCachePolicyTest {
    static final double N = Double.NaN;
    static final double[] IDENTITY = {0, 1};

    @Test
    void skipsWholeStepsWhileTheAccumulatedChangeStaysBelowThreshold() {
        TeaCachePolicy p = new TeaCachePolicy(0.25, IDENTITY);
        assertEquals(Set.of(SignalRequest.modulatedInput(0)), p.signals());
        Decisions d = run(p, 8, 3, COND, perStep(new double[] {N, 0.1, 0.1, 0.1, 0.05, 0.3, 0.1, 0.1}));
        for (int layer = 0; layer < 3; layer++) {
            assertEquals("CRRCRCRC", d.steps(0, layer), "0.3 reached at step 3, 0.35 at step 5; the last step"
                    + " computes; layer " + layer);
        }
    }

    @Test
    void accumulatesThePolynomialOfTheSignal() {
        TeaCachePolicy p = new TeaCachePolicy(0.25, new double[] {0, 0, 10});
        assertEquals(0.1, p.rescale(0.1), 1e-15);
        assertEquals("CRRCRRCC", run(p, 8, 1, COND, constant(0.1)).steps(0, 0));
        TeaCachePolicy negative = new TeaCachePolicy(0.5, new double[] {-1});
        assertEquals("CRRRRRRC", run(negative, 8, 1, COND, constant(0.1)).steps(0, 0),
                "a negative poly(x) adds 0, not -1");
        assertTrue(run(new TeaCachePolicy(0, new double[] {-1}), 8, 2, GUIDED, constant(0.1)).allCompute(),
                "threshold 0 computes everything, whatever the polynomial");
    }

    @Test
    void computesAndRestartsWhereNothingWasMeasured() {
        TeaCachePolicy p = new TeaCachePolicy(0.25, IDENTITY);
        assertEquals("CRCRRCC", run(p, 7, 1, COND, perStep(new double[] {N, 0.1, N, 0.1, 0.1, 0.1, 0.1}))
                .steps(0, 0));
        assertEquals("CRCRRCC", run(p, 7, 1, COND, (s, step, row) -> step == 2 ? Double.NaN : 0.1)
                .steps(0, 0));
    }

    @Test
    void keepsOneAccumulatorPerRow() {
        double[] small = {N, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
        double[] large = {N, 0.3, 0.3, 0.1, 0.1, 0.3, 0.01, 0.01};
        Decisions guided = run(new TeaCachePolicy(0.25, IDENTITY), 8, 2, GUIDED, perStep(small, large));
        assertEquals("CRRRRRRC", guided.steps(0, 1), "COND");
        assertEquals("CCCRRCRC", guided.steps(1, 1), "UNCOND");
        Decisions pair = run(new TeaCachePolicy(0.25, IDENTITY), 8, 2, PAIR, perStep(large, small));
        assertEquals("CCCRRCRC", pair.steps(0, 0), "sample 0");
        assertEquals("CRRRRRRC", pair.steps(1, 0), "sample 1");
    }

    @Test
    void resetClearsTheAccumulator() {
        TeaCachePolicy p = new TeaCachePolicy(0.25, IDENTITY);
        Query q = new Query(1, 8, 0, 2, Branch.COND, 0);
        p.observe(SignalRequest.modulatedInput(0), q, 0.2);
        assertEquals(Decision.REUSE_BLOCK, p.decide(q));
        Query q2 = new Query(2, 8, 0, 2, Branch.COND, 0);
        p.reset();
        p.observe(SignalRequest.modulatedInput(0), q2, 0.2);
        assertEquals(Decision.REUSE_BLOCK, p.decide(q2), "0.2 alone, not 0.4");
    }

    @Test
    void fitRecoversAKnownPolynomial() {
        RedundancyProfile profile = SyntheticProfiles.profile(true);
        double[] c = TeaCachePolicy.fit(profile, 4);
        assertArrayEquals(SyntheticProfiles.POLY, c, 1e-8);
        TeaCachePolicy p = TeaCachePolicy.fitted(profile, 4, 0.3);
        assertArrayEquals(c, p.coefficients(), 0.0);
        assertEquals(PolynomialFit.evaluate(SyntheticProfiles.POLY, 0.2), p.rescale(0.2), 1e-10);
        // poly(0.1) = 0.0636: five of them pass 0.3. Fitted on 30 steps, the polynomial serves a 12-step run.
        assertEquals("CRRRRCRRRRCC", run(p, 12, 2, GUIDED, constant(0.1)).steps(1, 1));
    }

    @Test
    void fitIsTheLeastSquaresSolution() {
        double[] x = new double[40];
        double[] y = new double[40];
        for (int i = 0; i < x.length; i++) {
            x[i] = 0.01 * i;
            y[i] = 0.5 + 2 * x[i] + 0.05 * Math.sin(7 * i); // a line plus noise
        }
        double mx = java.util.Arrays.stream(x).average().orElseThrow();
        double my = java.util.Arrays.stream(y).average().orElseThrow();
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        double slope = sxy / sxx;
        assertArrayEquals(new double[] {my - slope * mx, slope}, PolynomialFit.leastSquares(x, y, 1), 1e-12);
        double[] cubic = PolynomialFit.leastSquares(x, y, 3);
        for (int k = 0; k <= 3; k++) {
            double dot = 0; // normal equations: the residual is orthogonal to every column x^k
            for (int i = 0; i < x.length; i++) {
                dot += (y[i] - PolynomialFit.evaluate(cubic, x[i])) * Math.pow(x[i], k);
            }
            assertEquals(0.0, dot, 1e-12, "x^" + k);
        }
    }

    @Test
    void fitNamesWhatIsMissing() {
        RedundancyProfile empty = new RedundancyProfile(Map.of(), Map.of(), 2, 10);
        assertRejected(() -> TeaCachePolicy.fit(empty, 4), "teacache", "MODULATED_INPUT/IMAGE/COND/L1_REL");
        assertRejected(() -> TeaCachePolicy.fit(SyntheticProfiles.profile(false), 0), "degree", "[1, 8]", "got 0");
        assertRejected(() -> TeaCachePolicy.fit(SyntheticProfiles.profile(false), 9), "degree", "9");
        RedundancyProfile short3 = new RedundancyProfile(Map.of(), Map.of(), 2, 4);
        for (int s = 0; s < 3; s++) {
            short3.add(SyntheticProfiles.key(SiteKind.MODULATED_INPUT, Branch.COND, DistanceMetric.L1_REL), 0, s,
                    0.1 * (s + 1));
            short3.add(SyntheticProfiles.key(SiteKind.BLOCK_OUT, Branch.COND, DistanceMetric.L1_REL), 1, s, 0.1);
        }
        assertRejected(() -> TeaCachePolicy.fit(short3, 3), "degree-3", "has 3");
        assertEquals(2, TeaCachePolicy.fit(short3, 1).length);
    }

    @Test
    void badParametersAreRejected() {
        assertRejected(() -> new TeaCachePolicy(-1, IDENTITY), "teacache", "threshold", "-1");
        assertRejected(() -> new TeaCachePolicy(0.1, new double[0]), "coefficients", "at least one");
        assertRejected(() -> new TeaCachePolicy(0.1, new double[] {1, Double.NaN}), "coefficients[1]", "NaN");
    }
}
