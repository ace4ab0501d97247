package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every policy at its "compute everything" setting samples bit for bit what uncached sampling does (guided, two
 * samples, DDIM and DPM-Solver++), and the same policy at an aggressive setting does not.
 */
class ComputeEverythingTest {
    static final int STEPS = 8;
    static DiTModel model;

    @BeforeAll
    static void init() {
        model = new DiTModel(new DiTConfig(8, 2, 1, 1, 4, 2, 8, 3, 1e-5, true));
        DiTInit.variancePreserving(model, 11);
    }

    record Setting(String name, Map<String, Object> everything, Map<String, Object> aggressive) {
    }

    static Map<String, Object> m(Object... kv) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.put((String) kv[i], kv[i + 1]);
        }
        return out;
    }

    static List<Setting> settings() {
        List<Double> ratios = new ArrayList<>(java.util.Collections.nCopies(STEPS - 1, 1.0));
        return List.of(
                new Setting("fora", m("interval", 1), m("interval", 3)),
                new Setting("delta-dit", m("interval", 1, "firstBlock", 1), m("interval", 3, "firstBlock", 1)),
                new Setting("pab", m("interval", 1), m("interval", 3, "start", 0.0, "end", 1.0)),
                new Setting("fbcache", m("threshold", 0.0), m("threshold", 10.0)),
                new Setting("dbcache", m("threshold", 0.0, "firstBlocks", 1, "lastBlocks", 1),
                        m("threshold", 10.0, "firstBlocks", 1, "lastBlocks", 1)),
                new Setting("teacache", m("threshold", 0.0, "coefficients", List.of(0.0, 1.0)),
                        m("threshold", 10.0, "coefficients", List.of(0.0, 1.0))),
                new Setting("magcache", m("threshold", 0.0, "ratios", ratios),
                        m("threshold", 10.0, "ratios", ratios, "retention", 0.0)),
                new Setting("taylorseer", m("interval", 1), m("interval", 3, "warmupSteps", 1)),
                new Setting("fora+taylor1", m("interval", 1), m("interval", 3)),
                new Setting("fbcache+taylor2", m("threshold", 0.0), m("threshold", 10.0)));
    }

    static Samples sample(String scheduler, CachePolicy policy, CacheStats stats) {
        Sampler s = new Sampler(model, Schedulers.create(scheduler, Map.of()));
        SamplingOptions o = new SamplingOptions(List.of(new Condition(0, 3), new Condition(2, 4)), STEPS, 3.0);
        return policy == null ? s.sample(o, null, ActivationProbe.NONE) : s.sample(o, null, policy, stats);
    }

    @Test
    void everyPolicyThatComputesEverythingIsBitExact() {
        for (String scheduler : List.of("ddim", "dpm++")) {
            float[] plain = sample(scheduler, null, null).values();
            for (Setting s : settings()) {
                CacheStats stats = new CacheStats();
                float[] cached = sample(scheduler, Policies.create(s.name(), s.everything()), stats).values();
                assertArrayEquals(plain, cached, 0f, s.name() + " " + scheduler);
                assertEquals(0.0, stats.skippedFraction(), s.name());

                CacheStats aggressive = new CacheStats();
                float[] reused = sample(scheduler, Policies.create(s.name(), s.aggressive()), aggressive).values();
                assertTrue(aggressive.skippedFraction() > 0, s.name() + " aggressive skips something");
                assertTrue(!Arrays.equals(plain, reused), s.name() + " aggressive changes the samples");
            }
            boolean[][] all = new boolean[STEPS][4];
            for (boolean[] row : all) {
                Arrays.fill(row, true);
            }
            ComputeMask full = new ComputeMask(all, new ComputeMask.Budget(1.0), 0, "test");
            for (CachePolicy p : List.of(new ProfileGuidedPolicy(full),
                    new ProfileGuidedPolicy(full).withApproximation(io.ditcache.Approximation.taylor(1)))) {
                assertArrayEquals(plain, sample(scheduler, p, new CacheStats()).values(), 0f, p.name());
            }
        }
    }
}
