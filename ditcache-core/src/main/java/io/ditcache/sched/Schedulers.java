package io.ditcache.sched;

import io.ditcache.io.JsonFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Creates {@link Scheduler}s by name from diffusers scheduler configurations.
 *
 * <table>
 *   <caption>Names</caption>
 *   <tr><th>name</th><th>diffusers class</th></tr>
 *   <tr><td>{@code ddim}</td><td>{@code DDIMScheduler} (eta 0)</td></tr>
 *   <tr><td>{@code ddpm}</td><td>{@code DDPMScheduler}</td></tr>
 *   <tr><td>{@code dpm++}</td><td>{@code DPMSolverMultistepScheduler} (dpmsolver++)</td></tr>
 *   <tr><td>{@code euler}</td><td>{@code EulerDiscreteScheduler}</td></tr>
 *   <tr><td>{@code flowmatch}</td><td>{@code FlowMatchEulerDiscreteScheduler}</td></tr>
 *   <tr><td>{@code rflow}</td><td>Open-Sora 1.2's {@code RFLOW} (not a diffusers class)</td></tr>
 *   <tr><td>{@code cogvideox-ddim}</td><td>{@code CogVideoXDDIMScheduler} (CogVideoX)</td></tr>
 * </table>
 *
 * <p>The diffusers class name is accepted in place of the short name. A configuration is the key/value map
 * of a {@code scheduler_config.json}; keys a scheduler does not use ({@code _class_name}, other schedulers'
 * keys) are ignored, keys listed in {@code _use_default_values} take this scheduler's defaults (as
 * diffusers' {@code from_config} does), and a value this port does not implement is rejected with an
 * {@link IllegalArgumentException} naming the key, the value and what is allowed. Each scheduler's
 * Javadoc lists its keys and defaults.
 */
public final class Schedulers {
    private static final Map<String, Function<SchedulerConfig, Scheduler>> FACTORIES = new LinkedHashMap<>();
    private static final Map<String, String> CLASS_NAMES = Map.of(
            "DDIMScheduler", "ddim",
            "CogVideoXDDIMScheduler", "cogvideox-ddim",
            "DDPMScheduler", "ddpm",
            "DPMSolverMultistepScheduler", "dpm++",
            "EulerDiscreteScheduler", "euler",
            "FlowMatchEulerDiscreteScheduler", "flowmatch",
            "RFLOW", "rflow");

    static {
        FACTORIES.put("ddim", DdimScheduler::new);
        FACTORIES.put("ddpm", DdpmScheduler::new);
        FACTORIES.put("dpm++", DpmSolverMultistepScheduler::new);
        FACTORIES.put("euler", EulerDiscreteScheduler::new);
        FACTORIES.put("flowmatch", FlowMatchEulerScheduler::new);
        FACTORIES.put("rflow", RFlowScheduler::new);
        FACTORIES.put("cogvideox-ddim", CogVideoXDdimScheduler::new);
    }

    private Schedulers() {}

    /** The short names, in a fixed order. */
    public static List<String> names() {
        return List.copyOf(FACTORIES.keySet());
    }

    /**
     * A scheduler with the given configuration (an empty map gives diffusers' defaults).
     *
     * @param name   a short name of {@link #names()} (any case) or a diffusers class name
     * @param config the keys of a diffusers {@code scheduler_config.json}
     * @throws IllegalArgumentException for an unknown name or an invalid or unsupported value
     */
    public static Scheduler create(String name, Map<String, ?> config) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        String key = CLASS_NAMES.getOrDefault(name, name.toLowerCase(Locale.ROOT));
        Function<SchedulerConfig, Scheduler> factory = FACTORIES.get(key);
        if (factory == null) {
            throw new IllegalArgumentException("unknown scheduler \"" + name + "\"; known: "
                    + String.join(", ", FACTORIES.keySet()) + " (or their diffusers class names "
                    + String.join(", ", CLASS_NAMES.keySet()) + ")");
        }
        return factory.apply(new SchedulerConfig(key, config));
    }

    /**
     * A scheduler configured from a diffusers {@code scheduler_config.json}.
     *
     * @throws IOException              if the file cannot be read or is not JSON (the message names the file)
     * @throws IllegalArgumentException if it is not a JSON object or a value is invalid (the message names the
     *                                  file, key, value and what was expected)
     */
    public static Scheduler fromConfigFile(String name, Path schedulerConfigJson) throws IOException {
        Map<String, Object> config = readConfig(schedulerConfigJson);
        try {
            return create(name, config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(schedulerConfigJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * The keys of a diffusers {@code scheduler_config.json}, as plain JSON values.
     *
     * @throws IOException              if the file cannot be read or is not JSON (the message names the file)
     * @throws IllegalArgumentException if it is not a JSON object
     */
    public static Map<String, Object> readConfig(Path schedulerConfigJson) throws IOException {
        return JsonFiles.readObject(Objects.requireNonNull(schedulerConfigJson, "schedulerConfigJson"));
    }

    /**
     * The cumulative products of {@code 1 - beta} over the training timesteps that a scheduler with this
     * configuration assumes (diffusers' {@code alphas_cumprod}, float32): what a training loop noises with.
     */
    public static float[] alphasCumprod(Map<String, ?> config) {
        return NoiseSchedule.read(new SchedulerConfig("ddpm", config)).alphasCumprod.clone();
    }
}
