package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.model.Denoiser;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cache contract every family must keep, for any {@link Denoiser}: each policy of the library at its
 * "compute everything" setting samples bit for bit what uncached sampling does, and at an aggressive setting it
 * skips work and changes the samples. Family tests call {@link #check}.
 */
public final class PolicyContract {
    private PolicyContract() {
    }

    /** A policy with its compute-everything and aggressive parameters. */
    public record Setting(String name, Map<String, Object> everything, Map<String, Object> aggressive) {
    }

    static Map<String, Object> m(Object... kv) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.put((String) kv[i], kv[i + 1]);
        }
        return out;
    }

    /** Every policy of the library, for runs of {@code steps} steps. */
    public static List<Setting> settings(int steps) {
        List<Double> ratios = new ArrayList<>(Collections.nCopies(steps - 1, 1.0));
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

    /**
     * Samples {@code options} with {@code scheduler} (a {@link Schedulers} name and config) uncached, then with
     * every policy at both settings, and with profile-guided masks that compute everything.
     *
     * @param layers the model's blocks (the mask's width)
     */
    public static void check(Denoiser model, String scheduler, Map<String, ?> schedulerConfig,
            SamplingOptions options) {
        float[] plain = sample(model, scheduler, schedulerConfig, options, null, null).values();
        for (Setting s : settings(options.steps())) {
            CacheStats stats = new CacheStats();
            float[] cached = sample(model, scheduler, schedulerConfig, options,
                    Policies.create(s.name(), s.everything()), stats).values();
            assertArrayEquals(plain, cached, 0f, s.name() + " " + scheduler);
            assertEquals(0.0, stats.skippedFraction(), s.name());

            CacheStats aggressive = new CacheStats();
            float[] reused = sample(model, scheduler, schedulerConfig, options,
                    Policies.create(s.name(), s.aggressive()), aggressive).values();
            assertTrue(aggressive.skippedFraction() > 0, s.name() + " aggressive skips something");
            assertTrue(!Arrays.equals(plain, reused), s.name() + " aggressive changes the samples");
        }
        boolean[][] all = new boolean[options.steps()][model.layers()];
        for (boolean[] row : all) {
            Arrays.fill(row, true);
        }
        ComputeMask full = new ComputeMask(all, new ComputeMask.Budget(1.0), 0, "test");
        for (CachePolicy p : List.of(new ProfileGuidedPolicy(full),
                new ProfileGuidedPolicy(full).withApproximation(io.ditcache.Approximation.taylor(1)))) {
            assertArrayEquals(plain, sample(model, scheduler, schedulerConfig, options, p, new CacheStats())
                    .values(), 0f, p.name());
        }
    }

    static Samples sample(Denoiser model, String scheduler, Map<String, ?> schedulerConfig, SamplingOptions options,
            CachePolicy policy, CacheStats stats) {
        Sampler s = new Sampler(model, Schedulers.create(scheduler, schedulerConfig));
        return policy == null ? s.sample(options, null, ActivationProbe.NONE) : s.sample(options, null, policy, stats);
    }
}
