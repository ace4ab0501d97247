package io.ditcache.model.pipeline;

import io.ditcache.io.CheckpointException;
import io.ditcache.io.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A diffusers pipeline folder: {@value #MODEL_INDEX} names the pipeline's class and its components, each a
 * sub-folder ({@code transformer}, {@code text_encoder}, {@code tokenizer_2}, {@code vae}, {@code scheduler}, ...)
 * given as {@code [library, class]}; a component given as {@code [null, null]} is absent on purpose.
 *
 * <p>Opening checks the index and that every component it names has its folder, so a pipeline copied in part is
 * refused in one line naming the index, the component and the missing folder.
 */
public final class PipelineFolder {
    /** The pipeline's index file. */
    public static final String MODEL_INDEX = "model_index.json";
    /** The denoiser's component. */
    public static final String TRANSFORMER = "transformer";
    /** The VAE's component. */
    public static final String VAE = "vae";
    /** The scheduler's component. */
    public static final String SCHEDULER = "scheduler";

    /**
     * One component of the index.
     *
     * @param name      its key and folder name, e.g. {@code text_encoder_2}
     * @param library   {@code diffusers} or {@code transformers}
     * @param className its class, e.g. {@code T5EncoderModel}
     * @param dir       its folder
     */
    public record Component(String name, String library, String className, Path dir) {
    }

    private final Path dir;
    private final String className;
    private final Map<String, Component> components;
    private final Map<String, Object> options;

    private PipelineFolder(Path dir, String className, Map<String, Component> components,
            Map<String, Object> options) {
        this.dir = dir;
        this.className = className;
        this.components = Collections.unmodifiableMap(components);
        this.options = Collections.unmodifiableMap(options);
    }

    /** Whether {@code dir} is a pipeline folder (it holds {@value #MODEL_INDEX}). */
    public static boolean isPipeline(Path dir) {
        return dir != null && Files.isRegularFile(dir.resolve(MODEL_INDEX));
    }

    /**
     * Reads and checks {@code dir/}{@value #MODEL_INDEX}.
     *
     * @throws CheckpointException naming the index for a bad entry, a missing {@code transformer} or a component
     *                             whose folder is missing
     */
    public static PipelineFolder open(Path dir) throws IOException {
        Path index = dir.resolve(MODEL_INDEX);
        Map<String, Object> m = JsonFiles.readObject(index);
        Object cls = m.get("_class_name");
        if (!(cls instanceof String c) || c.isBlank()) {
            throw new CheckpointException(index + ": key \"_class_name\" is " + cls + ", expected the pipeline's "
                    + "class, e.g. \"FluxPipeline\"");
        }
        Map<String, Component> out = new LinkedHashMap<>();
        Map<String, Object> options = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String name = e.getKey();
            if (name.startsWith("_")) {
                continue;
            }
            if (!(e.getValue() instanceof List<?> pair) || pair.size() != 2) {
                options.put(name, e.getValue()); // such as force_zeros_for_empty_prompt
                continue;
            }
            if (pair.get(0) == null && pair.get(1) == null) {
                continue; // absent on purpose
            }
            if (!(pair.get(0) instanceof String lib) || !(pair.get(1) instanceof String k)) {
                throw new CheckpointException(index + ": component \"" + name + "\" is " + pair + ", expected "
                        + "[library, class] such as [\"diffusers\", \"AutoencoderKL\"] or [null, null]");
            }
            if (name.contains("/") || name.contains("\\") || name.equals("..") || name.equals(".")) {
                throw new CheckpointException(index + ": component name \"" + name + "\" is not a folder name");
            }
            Path sub = dir.resolve(name);
            if (!Files.isDirectory(sub)) {
                throw new CheckpointException(index + ": names component \"" + name + "\" (" + lib + " " + k
                        + ") but its folder " + sub + " is missing; copy the whole pipeline folder");
            }
            out.put(name, new Component(name, lib, k, sub));
        }
        if (!out.containsKey(TRANSFORMER)) {
            throw new CheckpointException(index + ": no component \"" + TRANSFORMER + "\" (has " + out.keySet()
                    + "), expected a diffusion-transformer pipeline (" + c + " is not one ditcache runs)");
        }
        return new PipelineFolder(dir, c, out, options);
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /** The index file, as messages name it. */
    public Path index() {
        return dir.resolve(MODEL_INDEX);
    }

    /** The pipeline's class, e.g. {@code FluxPipeline}. */
    public String className() {
        return className;
    }

    /** The components present, in the index's order. */
    public Map<String, Component> components() {
        return components;
    }

    /** A component by name, if the index names it. */
    public Optional<Component> component(String name) {
        return Optional.ofNullable(components.get(name));
    }

    /**
     * A component the pipeline needs.
     *
     * @throws CheckpointException naming the index and what the component is needed for
     */
    public Component require(String name, String forWhat) throws CheckpointException {
        Component c = components.get(name);
        if (c == null) {
            throw new CheckpointException(index() + ": no component \"" + name + "\", which " + className + " needs "
                    + forWhat + " (has " + components.keySet() + ")");
        }
        return c;
    }

    /** A pipeline option of the index (a key that is not a component), e.g. {@code force_zeros_for_empty_prompt}. */
    public Optional<Object> option(String key) {
        return Optional.ofNullable(options.get(key));
    }

    /** The transformer's folder. */
    public Path transformer() {
        return components.get(TRANSFORMER).dir();
    }

    /** The scheduler's configuration file, where the pipeline has one. */
    public Optional<Path> schedulerConfig() {
        return component(SCHEDULER).map(c -> c.dir().resolve("scheduler_config.json")).filter(Files::isRegularFile);
    }

    @Override
    public String toString() {
        return "PipelineFolder[" + dir + ", " + className + ", " + components.keySet() + "]";
    }
}
