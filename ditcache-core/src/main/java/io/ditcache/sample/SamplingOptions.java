package io.ditcache.sample;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What to sample: conditions, step count and guidance.
 *
 * @param conditions one per sample, in batch order
 * @param steps      denoising steps (calls of the transformer per branch)
 * @param guidance   guidance scale, applied as the model's {@link io.ditcache.model.SamplingDefaults#kind()} says:
 *                   for classifier-free guidance {@code 1} means none (one branch)
 */
public record SamplingOptions(List<Condition> conditions, int steps, double guidance) {
    /** Default step count. */
    public static final int DEFAULT_STEPS = 50;
    /** Default guidance scale (diffusers' DiTPipeline default). */
    public static final double DEFAULT_GUIDANCE = 4.0;

    public SamplingOptions {
        conditions = List.copyOf(Objects.requireNonNull(conditions, "conditions"));
        if (conditions.isEmpty()) {
            throw new IllegalArgumentException("at least one condition is needed");
        }
        if (steps < 1 || steps > 10_000) {
            throw new IllegalArgumentException("steps must be in [1, 10000], got " + steps);
        }
        if (!(guidance >= 1.0) || !Double.isFinite(guidance)) {
            throw new IllegalArgumentException("guidance must be a finite number >= 1 (1 = no guidance), got "
                    + guidance);
        }
    }

    /** Every label paired with every seed, label-major. */
    public static List<Condition> grid(List<Integer> labels, List<Long> seeds) {
        List<Condition> out = new ArrayList<>();
        for (int label : labels) {
            for (long seed : seeds) {
                out.add(new Condition(label, seed));
            }
        }
        return out;
    }

    /** Whether classifier-free guidance runs (a second, unconditional branch). */
    public boolean guided() {
        return guidance > 1.0;
    }
}
