package io.ditcache.study;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserInfo;
import io.ditcache.profile.StreamingProfiler;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Profiles a model: samples every condition with a {@link StreamingProfiler} attached. */
public final class Profiling {
    private Profiling() {
    }

    /** Model identity recorded in a profile: name, class, layers, parameter count and configuration. */
    public static Map<String, Object> describe(Denoiser model, String name) {
        DenoiserInfo info = model.info();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("class_name", info.className());
        m.put("layers", model.layers());
        m.put("parameters", info.parameterCount());
        m.put("config", info.config());
        return m;
    }

    /**
     * Samples {@code options} and returns the profile of every site, metric and guidance branch.
     *
     * @param initialNoise null to draw each condition's noise from its seed
     */
    public static RedundancyProfile run(Denoiser model, String name, Scheduler scheduler, SamplingOptions options,
            Samples initialNoise) {
        return run(model, name, scheduler, options, initialNoise, UnaryOperator.identity());
    }

    /** As {@link #run(Denoiser, String, Scheduler, SamplingOptions, Samples)}, with the probe wrapped by {@code wrap}. */
    public static RedundancyProfile run(Denoiser model, String name, Scheduler scheduler, SamplingOptions options,
            Samples initialNoise, UnaryOperator<ActivationProbe> wrap) {
        return run(model, name, scheduler, options, initialNoise, wrap, EnumSet.allOf(SiteKind.class), false);
    }

    /**
     * As {@link #run(Denoiser, String, Scheduler, SamplingOptions, Samples, UnaryOperator)}, profiling only
     * {@code kinds} (the model does not compute the others), with the forecast error too when
     * {@code forecastError} (see {@link StreamingProfiler#StreamingProfiler(RedundancyProfile, Set, boolean)}).
     */
    public static RedundancyProfile run(Denoiser model, String name, Scheduler scheduler, SamplingOptions options,
            Samples initialNoise, UnaryOperator<ActivationProbe> wrap, Set<SiteKind> kinds, boolean forecastError) {
        Map<String, Object> sched = new LinkedHashMap<>(scheduler.describe());
        sched.put("guidance", options.guidance());
        RedundancyProfile profile = new RedundancyProfile(describe(model, name), sched, model.layers(),
                options.steps());
        StreamingProfiler profiler = new StreamingProfiler(profile, kinds, forecastError);
        new Sampler(model, scheduler).sample(options, initialNoise, wrap.apply(profiler));
        return profile;
    }
}
