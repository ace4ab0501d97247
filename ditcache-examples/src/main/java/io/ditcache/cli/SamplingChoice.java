package io.ditcache.cli;

import io.ditcache.model.Denoiser;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The scheduler, step count and guidance a command samples with: what the user gave, else the defaults. A text
 * model's defaults are its family's {@link SamplingDefaults} (the checkpoint's {@code scheduler/scheduler_config.json}
 * taking precedence for the scheduler); a class-conditional model keeps the command's own defaults (the MNIST
 * default model's measured guidance).
 *
 * @param scheduler       a short scheduler name or diffusers class name
 * @param schedulerConfig its configuration keys
 * @param configSource    the file the keys came from, or empty
 * @param steps           denoising steps
 * @param guidance        the scale {@link io.ditcache.sample.SamplingOptions} gets (1 for a model without guidance)
 * @param kind            how the model applies guidance
 */
record SamplingChoice(String scheduler, Map<String, Object> schedulerConfig, Optional<Path> configSource, int steps,
        double guidance, SamplingDefaults.Guidance kind) {

    /**
     * Chooses.
     *
     * @param schedulerFile the checkpoint's scheduler config, if it has one
     * @param scheduler     {@code --scheduler}, or null
     * @param steps         {@code --steps}, or null
     * @param guidance      {@code --guidance}, or null
     * @param command       the command's defaults for class-conditional models
     */
    static SamplingChoice of(Denoiser model, Optional<Path> schedulerFile, String scheduler, Integer steps,
            Double guidance, SamplingDefaults command) throws IOException {
        boolean text = TextConditions.text(model);
        SamplingDefaults d = text ? model.samplingDefaults() : command;
        Map<String, Object> fileKeys = schedulerFile.isPresent() ? Schedulers.readConfig(schedulerFile.get()) : null;
        String name = scheduler;
        if (name == null) {
            Object fileClass = fileKeys == null ? null : fileKeys.get("_class_name");
            if (text && fileClass instanceof String c) {
                try {
                    Schedulers.create(c, Map.of());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(schedulerFile.get() + ": _class_name \"" + c + "\" is a "
                            + "scheduler ditcache does not have; choose one with --scheduler " + Schedulers.names());
                }
                name = c;
            } else {
                name = d.scheduler();
            }
        }
        Map<String, Object> config = fileKeys != null ? fileKeys : text ? d.schedulerConfig() : Map.of();
        if (fileKeys != null && text && !model.pipelineSchedulerKeys().isEmpty()) {
            // what the published pipeline imposes whatever the file says (Mochi's sigmas)
            config = new java.util.LinkedHashMap<>(fileKeys);
            config.putAll(model.pipelineSchedulerKeys());
        }
        double g = guidance != null ? guidance : d.guidance();
        if (d.kind() == SamplingDefaults.Guidance.NONE) {
            g = 1.0; // no guidance at all: the sampler runs one branch whatever the scale
        }
        return new SamplingChoice(name, config, fileKeys == null ? Optional.empty() : schedulerFile,
                steps != null ? steps : d.steps(), g, d.kind());
    }

    /** A fresh scheduler; a value it refuses is named with the file it came from. */
    Scheduler create() {
        try {
            return Schedulers.create(scheduler, schedulerConfig);
        } catch (IllegalArgumentException e) {
            throw configSource.isPresent() ? new IllegalArgumentException(configSource.get() + ": " + e.getMessage(), e)
                    : e;
        }
    }

    /** The short name of the scheduler ({@code flowmatch}, ...). */
    String shortName() {
        return create().name();
    }

    /** The scheduler configuration with its class, as a study records it (the class decides what fits). */
    Map<String, Object> studyConfig() {
        if (schedulerConfig.containsKey("_class_name")) {
            return schedulerConfig;
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("_class_name", DIFFUSERS.getOrDefault(shortName(), scheduler));
        m.putAll(schedulerConfig);
        return m;
    }

    private static final Map<String, String> DIFFUSERS = Map.of("ddim", "DDIMScheduler", "ddpm", "DDPMScheduler",
            "dpm++", "DPMSolverMultistepScheduler", "euler", "EulerDiscreteScheduler", "flowmatch",
            "FlowMatchEulerDiscreteScheduler");

    /** Whether a second, unconditional branch runs (classifier-free guidance above 1). */
    boolean twoBranches() {
        return kind == SamplingDefaults.Guidance.CLASSIFIER_FREE && guidance > 1;
    }

    /** One line saying what sampling runs with, for a text model's run. */
    String describe() {
        String g = switch (kind) {
            case CLASSIFIER_FREE -> String.format(Locale.ROOT, "classifier-free guidance %s", guidance);
            case EMBEDDED -> String.format(Locale.ROOT, "embedded guidance %s (one branch)", guidance);
            case NONE -> "no guidance";
        };
        return "sampling: " + shortName() + configSource.map(p -> " (configured by " + p + ")").orElse("") + ", "
                + steps + " steps, " + g;
    }

    /** {@link #describe()}, and whether the negative prompts of {@code prompts} are used. */
    String describe(io.ditcache.sample.PromptEmbeddings prompts) {
        if (!prompts.hasNegatives()) {
            return describe();
        }
        return describe() + (twoBranches() ? ", guided against the file's negative prompts"
                : "; the file's negative prompts are not used (no classifier-free guidance branch)");
    }
}
