package io.ditcache.bench;

import io.ditcache.Approximation;
import io.ditcache.CacheStats;
import io.ditcache.model.Denoiser;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.policy.SegmentErrors;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Measures {@link SegmentErrors} as LeMiCa (NeurIPS 2025) calibrates: one uncached run of a few calibration
 * conditions, then one run per candidate segment that caches only that segment (every block reuses its output of the
 * segment's first step, as it is or extrapolated by an {@link Approximation}), each error the relative L1 distance
 * of its final samples from the uncached ones, {@code sum |x - ref| / sum |ref|}. The calibration costs one full sampling run per candidate: about
 * {@code steps * (maxLength - 1)} of them.
 */
public final class SegmentCalibration {
    private SegmentCalibration() {
    }

    /** What the calibration measured and what it cost. */
    public record Result(SegmentErrors errors, int runs, double seconds) {
    }

    /** Hears of the calibration's runs (for a progress bar). */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        /** Called once, before the first run, with the number of sampling runs. */
        default void planned(int runs) {
        }

        default void runDone() {
        }
    }

    /**
     * Calibrates on {@code options}' conditions, steps and guidance.
     *
     * @param maxLength     the longest segment, in [2, steps]
     * @param approximation how the reused outputs are used ({@link Approximation#REUSE}: as they are, LeMiCa's way);
     *                      the plans over these errors must run with the same one
     * @param source        names what was calibrated (model, scheduler) in the result
     */
    public static Result measure(Denoiser model, Supplier<Scheduler> schedulers, SamplingOptions options,
            int maxLength, Approximation approximation, String source, Listener listener) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(approximation, "approximation");
        Objects.requireNonNull(schedulers, "schedulers");
        int steps = options.steps();
        if (steps < 2 || maxLength < 2 || maxLength > steps) {
            throw new IllegalArgumentException("max segment length " + maxLength + " for " + steps
                    + " steps: expected 2.." + steps + " (and at least 2 steps)");
        }
        List<int[]> candidates = SegmentErrors.candidates(steps, maxLength);
        listener.planned(candidates.size() + 1);
        long start = System.nanoTime();
        float[] reference = new Sampler(model, schedulers.get()).sample(options, io.ditcache.ActivationProbe.NONE)
                .values();
        listener.runDone();
        double norm = 0;
        for (float v : reference) {
            norm += Math.abs(v);
        }
        if (!(norm > 0) || !Double.isFinite(norm)) {
            throw new IllegalStateException("the uncached calibration samples sum to |x| = " + norm
                    + ": no relative error can be measured");
        }
        double[][] errors = new double[steps][];
        for (int from = 0; from < steps; from++) {
            errors[from] = new double[Math.max(0, Math.min(maxLength, steps - from) - 1)];
        }
        for (int[] c : candidates) {
            boolean[][] compute = new boolean[steps][model.layers()];
            for (int s = 0; s < steps; s++) {
                java.util.Arrays.fill(compute[s], s <= c[0] || s >= c[1]);
            }
            ComputeMask mask = new ComputeMask(compute,
                    new ComputeMask.Budget((steps - (c[1] - c[0] - 1)) / (double) steps), 0, source);
            float[] cached = new Sampler(model, schedulers.get()).sample(options, null,
                    new ProfileGuidedPolicy(mask, approximation), new CacheStats()).values();
            double diff = 0;
            for (int i = 0; i < cached.length; i++) {
                diff += Math.abs((double) cached[i] - reference[i]);
            }
            double e = diff / norm;
            if (!Double.isFinite(e)) {
                throw new IllegalStateException("caching steps " + (c[0] + 1) + ".." + (c[1] - 1) + " gave non-finite "
                        + "samples");
            }
            errors[c[0]][c[1] - c[0] - 2] = e;
            listener.runDone();
        }
        return new Result(new SegmentErrors(steps, maxLength, errors, source), candidates.size() + 1,
                (System.nanoTime() - start) / 1e9);
    }
}
