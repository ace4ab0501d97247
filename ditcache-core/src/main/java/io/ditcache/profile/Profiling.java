package io.ditcache.profile;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Profiles a model: samples every condition with a {@link StreamingProfiler} attached. */
public final class Profiling {
    private Profiling() {
    }

    /** Model identity recorded in a profile: name, class, layout and parameter count. */
    public static Map<String, Object> describe(DiTModel model, String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("class_name", io.ditcache.model.dit.DiTConfig.CLASS_NAME);
        m.put("layers", model.layers());
        m.put("parameters", model.parameterShapes().values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum());
        m.put("config", io.ditcache.model.CheckpointWriter.config(model.config()));
        return m;
    }

    /**
     * Samples {@code options} and returns the profile of every site, metric and guidance branch.
     *
     * @param initialNoise null to draw each condition's noise from its seed
     */
    public static RedundancyProfile run(DiTModel model, String name, Scheduler scheduler, SamplingOptions options,
            Samples initialNoise) {
        return run(model, name, scheduler, options, initialNoise, UnaryOperator.identity());
    }

    /** As {@link #run(DiTModel, String, Scheduler, SamplingOptions, Samples)}, with the probe wrapped by {@code wrap}. */
    public static RedundancyProfile run(DiTModel model, String name, Scheduler scheduler, SamplingOptions options,
            Samples initialNoise, UnaryOperator<ActivationProbe> wrap) {
        Map<String, Object> sched = new LinkedHashMap<>(scheduler.describe());
        sched.put("guidance", options.guidance());
        RedundancyProfile profile = new RedundancyProfile(describe(model, name), sched, model.layers(),
                options.steps());
        StreamingProfiler profiler = new StreamingProfiler(profile);
        new Sampler(model, scheduler).sample(options, initialNoise, wrap.apply(profiler));
        return profile;
    }
}
