package io.ditcache.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How a family's published pipeline samples it, used where the user names no scheduler, step count or guidance:
 * the scheduler (a diffusers class name with its {@code scheduler_config.json} keys), the step count, the guidance
 * scale and how guidance is applied. A checkpoint folder's own {@code scheduler/scheduler_config.json} takes
 * precedence over the scheduler named here.
 *
 * @param scheduler       diffusers scheduler class name, e.g. {@code FlowMatchEulerDiscreteScheduler}
 * @param schedulerConfig its configuration keys (an empty map: the scheduler's defaults)
 * @param steps           denoising steps
 * @param guidance        guidance scale; for {@link Guidance#CLASSIFIER_FREE} 1 means none
 * @param kind            how guidance is applied
 */
public record SamplingDefaults(String scheduler, Map<String, Object> schedulerConfig, int steps, double guidance,
        Guidance kind) {
    /** How a guidance scale reaches the model. */
    public enum Guidance {
        /** A second, unconditional branch, mixed by the scale (DiT, PixArt, SD3). */
        CLASSIFIER_FREE,
        /** The scale is an input of the model, one branch only (FLUX.1-dev's distilled guidance). */
        EMBEDDED,
        /** No guidance at all (FLUX.1-schnell). */
        NONE
    }

    /** diffusers' DiTPipeline: DDIM (the checkpoint's scheduler), 50 steps, guidance 4. */
    public static final SamplingDefaults DIT = new SamplingDefaults("DDIMScheduler", Map.of(), 50, 4.0,
            Guidance.CLASSIFIER_FREE);

    public SamplingDefaults {
        Objects.requireNonNull(scheduler, "scheduler");
        schedulerConfig = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(schedulerConfig,
                "schedulerConfig")));
        Objects.requireNonNull(kind, "kind");
        if (steps < 1) {
            throw new IllegalArgumentException("steps is " + steps + ", expected >= 1");
        }
        if (!(guidance >= 0) || !Double.isFinite(guidance)) {
            throw new IllegalArgumentException("guidance is " + guidance + ", expected a finite number >= 0");
        }
    }
}
