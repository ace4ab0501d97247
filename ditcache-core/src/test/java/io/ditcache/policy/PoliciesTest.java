package io.ditcache.policy;

import static io.ditcache.policy.IntervalPoliciesTest.assertRejected;
import static io.ditcache.policy.PolicyDriver.GUIDED;
import static io.ditcache.policy.PolicyDriver.PAIR;
import static io.ditcache.policy.PolicyDriver.assertSameDecisions;
import static io.ditcache.policy.PolicyDriver.constant;
import static io.ditcache.policy.PolicyDriver.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.Approximation;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.RedundancyProfile;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Creation by name, round trips through describe() and JSON, compute-everything settings, errors. */
class PoliciesTest {
    static final List<Double> RATIOS = List.of(1.0, 0.98, 1.01, 0.97, 1.0, 1.02, 0.99, 1.0, 1.0);

    /** Signals that vary by step and row, so stateful policies take different decisions per row. */
    static final PolicyDriver.Script VARIED = (signal, step, row) -> step == 0 ? null
            : 0.02 + 0.05 * ((step * 7 + row * 3) % 5);

    static Stream<Arguments> samples() {
        return Stream.of(
                Arguments.of("none", Map.of()),
                Arguments.of("fora", Map.of("interval", 3)),
                Arguments.of("delta-dit", Map.of("firstBlock", 1, "endBlock", 3, "interval", 2, "fromStep", 1,
                        "toStep", 8)),
                Arguments.of("pab", Map.of("interval", 2, "start", 0.2, "end", 0.8)),
                Arguments.of("fbcache", Map.of("threshold", 0.1)),
                Arguments.of("dbcache", Map.of("firstBlocks", 1, "lastBlocks", 1, "threshold", 0.15,
                        "warmupSteps", 1, "maxCachedSteps", 4, "maxContinuousCachedSteps", 2)),
                Arguments.of("teacache", Map.of("threshold", 0.2, "coefficients", List.of(0.01, 1.0, 0.5))),
                Arguments.of("magcache", Map.of("threshold", 0.1, "maxSkips", 3, "retention", 0.1, "ratios", RATIOS,
                        "unconditionalRatios", RATIOS.subList(0, 5))),
                Arguments.of("taylorseer", Map.of("interval", 3, "warmupSteps", 2, "order", 1)),
                Arguments.of("fbcache+taylor2", Map.of("threshold", 0.1)),
                Arguments.of("dbcache+taylor1+reuse", Map.of("threshold", 0.1)));
    }

    @ParameterizedTest
    @MethodSource("samples")
    void describeRecreatesAnEqualBehavingPolicy(String name, Map<String, Object> params) throws Exception {
        CachePolicy p = Policies.create(name, params);
        assertEquals(name, p.name());
        if (!name.equals("none")) {
            assertTrue(run(p, 12, 4, GUIDED, VARIED).reused() > 0, "the sample exercises reuse: " + p);
        }
        Map<String, Object> description = p.describe();
        assertEquals(name, description.get("name"));
        CachePolicy again = Policies.create(description);
        assertEquals(description, again.describe());
        assertEquals(p.approximation(), again.approximation());
        assertEquals(p.signals(), again.signals());
        assertSameDecisions(p, again, 12, 4, GUIDED, VARIED);
        assertSameDecisions(p, again, 12, 4, PAIR, VARIED);

        ObjectMapper json = new ObjectMapper();
        @SuppressWarnings("unchecked")
        Map<String, Object> read = json.readValue(json.writeValueAsString(description), Map.class);
        CachePolicy fromJson = Policies.create(read);
        assertEquals(description, fromJson.describe());
        assertSameDecisions(p, fromJson, 12, 4, GUIDED, VARIED);
    }

    @Test
    void namesCoverEveryPolicy() {
        assertEquals(List.of("none", "fora", "delta-dit", "pab", "fbcache", "dbcache", "teacache", "magcache",
                "taylorseer"), Policies.names());
        assertSame(CachePolicy.none(), Policies.create("none", Map.of()));
        assertSame(CachePolicy.none(), Policies.create("none", null));
    }

    static Stream<Arguments> computeEverything() {
        return Stream.of(
                Arguments.of("none", Map.of()),
                Arguments.of("fora", Map.of("interval", 1)),
                Arguments.of("delta-dit", Map.of("interval", 1)),
                Arguments.of("pab", Map.of("interval", 1, "start", 0.0, "end", 1.0)),
                Arguments.of("fbcache", Map.of("threshold", 0)),
                Arguments.of("dbcache", Map.of("threshold", 0)),
                Arguments.of("teacache", Map.of("threshold", 0, "coefficients", List.of(0, 1))),
                Arguments.of("magcache", Map.of("threshold", 0, "retention", 0, "ratios", List.of(1))),
                Arguments.of("magcache", Map.of("threshold", 1, "maxSkips", 0, "retention", 0, "ratios", List.of(1))),
                Arguments.of("taylorseer", Map.of("interval", 1, "warmupSteps", 0)));
    }

    @ParameterizedTest
    @MethodSource("computeEverything")
    void computeEverythingSettingsComputeEverywhere(String name, Map<String, Object> params) {
        CachePolicy p = Policies.create(name, params);
        // Signals of 0: any policy that could skip would.
        assertTrue(run(p, 12, 4, GUIDED, constant(0.0)).allCompute(), p.toString());
        assertTrue(run(p, 12, 4, PAIR, constant(0.0)).allCompute(), p.toString());
    }

    @Test
    void approximationSuffixesWrapThePolicy() {
        CachePolicy p = Policies.create("fbcache+taylor2", Map.of("threshold", 0.1));
        assertTrue(p instanceof ApproximatedPolicy);
        assertEquals(Approximation.taylor(2), p.approximation());
        assertEquals(0.1, ((FirstBlockResidualPolicy) ((ApproximatedPolicy) p).inner()).threshold());
        PolicyDriver.assertDelegates(new FirstBlockResidualPolicy(0.1), p);
        CachePolicy seer = Policies.withApproximation(new TaylorSeerPolicy(3), Approximation.REUSE);
        assertEquals("taylorseer+reuse", seer.name());
        assertEquals(Approximation.REUSE, Policies.create(seer.describe()).approximation());
    }

    @Test
    void aProfileSuppliesTeaCacheCoefficientsAndMagCacheRatios() {
        RedundancyProfile profile = SyntheticProfiles.profile(true);
        TeaCachePolicy tea = (TeaCachePolicy) Policies.create("teacache", Map.of("threshold", 0.1), profile);
        assertArrayEquals(TeaCachePolicy.fit(profile, 4), tea.coefficients(), 0.0);
        TeaCachePolicy quadratic = (TeaCachePolicy) Policies.create("teacache", Map.of("threshold", 0.1,
                "degree", 2), profile);
        assertEquals(3, quadratic.coefficients().length);
        TeaCachePolicy explicit = (TeaCachePolicy) Policies.create("teacache", Map.of("threshold", 0.1,
                "coefficients", List.of(1, 2)), profile);
        assertArrayEquals(new double[] {1, 2}, explicit.coefficients(), 0.0, "explicit coefficients win");

        MagCachePolicy mag = (MagCachePolicy) Policies.create("magcache", Map.of("threshold", 0.1), profile);
        assertArrayEquals(MagCachePolicy.ratios(profile, Branch.COND), mag.ratios(), 0.0);
        assertArrayEquals(MagCachePolicy.ratios(profile, Branch.UNCOND), mag.unconditionalRatios(), 0.0);
        assertSameDecisions(mag, Policies.create(mag.describe()), 20, 3, GUIDED, VARIED);
        assertSameDecisions(tea, Policies.create(tea.describe()), 20, 3, GUIDED, VARIED);
        assertSame(IntervalPolicy.class, Policies.create("fora", Map.of("interval", 2), profile).getClass());
    }

    @Test
    void mistakesAreNamed() {
        assertRejected(() -> Policies.create("nope", Map.of()), "unknown cache policy 'nope'", "fbcache",
                "+taylor1");
        assertRejected(() -> Policies.create("fora", Map.of()), "fora", "'interval'", "required");
        assertRejected(() -> Policies.create("fora", Map.of("interval", 2.5)), "'interval'", "integer", "2.5");
        assertRejected(() -> Policies.create("fora", Map.of("interval", "3")), "'interval'", "'3' (String)");
        assertRejected(() -> Policies.create("fora", Map.of("interval", 2, "intervall", 3)),
                "unknown parameter 'intervall' = 3", "[interval]");
        assertRejected(() -> Policies.create("fora", Map.of("interval", 0)), "interval", ">= 1", "got 0");
        assertRejected(() -> Policies.create("none", Map.of("threshold", 0.1)), "'threshold'", "expected none");
        assertRejected(() -> Policies.create("pab", Map.of("interval", 2, "start", "early")), "'start'", "number");
        assertRejected(() -> Policies.create("teacache", Map.of("threshold", 0.1)), "'coefficients'",
                "required without a profile");
        assertRejected(() -> Policies.create("teacache", Map.of("threshold", 0.1, "degree", 3)),
                "'degree' needs a profile");
        assertRejected(() -> Policies.create("teacache", Map.of("threshold", 0.1, "coefficients", List.of(1, "x"))),
                "'coefficients'", "'x'", "index 1");
        assertRejected(() -> Policies.create("teacache", Map.of("threshold", 0.1, "coefficients", 3)),
                "'coefficients'", "list of numbers", "3 (Integer)");
        assertRejected(() -> Policies.create("magcache", Map.of("threshold", 0.1)), "'ratios'", "required");
        assertRejected(() -> Policies.create("magcache", Map.of("threshold", 0.1, "ratios", List.of(1.0, -1.0))),
                "ratios[1]", "> 0", "-1.0");
        assertRejected(() -> Policies.create("fbcache+taylor3", Map.of("threshold", 0.1)), "'+taylor3'");
        assertRejected(() -> Policies.create(Map.of("interval", 2)), "'name'");
        Map<String, Object> withNull = new LinkedHashMap<>();
        withNull.put("threshold", null);
        assertRejected(() -> Policies.create("fbcache", withNull), "'threshold'", "null");
        assertRejected(() -> Policies.create("teacache", Map.of("threshold", 0.1, "degree", 2, "coefficients",
                List.of(1)), SyntheticProfiles.profile(false)), "not both");
    }
}
