package io.ditcache.model;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a {@link Denoiser} from a diffusers checkpoint: the {@link DenoiserFamily} registered for the class
 * named by {@code config.json}'s {@code _class_name} loads it, its configuration and weights checked before
 * anything is built.
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    /** Loads the checkpoint in {@code dir}. */
    public static Denoiser load(Path dir) throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            return load(ckpt);
        }
    }

    /**
     * Loads an open checkpoint. Before anything is built, each size of {@code config.json} is checked against the
     * weights' header and what the model would need against this machine's memory.
     *
     * @throws CheckpointException for a {@code _class_name} no family loads (the message lists those known), or
     *                             as the family's {@link DenoiserFamily#load}
     */
    public static Denoiser load(Checkpoint ckpt) throws IOException {
        return load(ckpt, MemoryBudget.ofThisMachine());
    }

    /**
     * Loads the checkpoint in {@code dir} with its weights in, and computing with, {@code type}.
     *
     * @throws CheckpointException as {@link #load(Checkpoint)}, or for a type the family does not run
     */
    public static Denoiser load(Path dir, ComputeType type) throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            return load(ckpt, MemoryBudget.ofThisMachine(), type);
        }
    }

    static Denoiser load(Checkpoint ckpt, MemoryBudget budget) throws IOException {
        return load(ckpt, budget, ComputeType.FLOAT32);
    }

    /** Loads an open checkpoint in {@code type}; see {@link #load(Path, ComputeType)}. */
    public static Denoiser load(Checkpoint ckpt, MemoryBudget budget, ComputeType type) throws IOException {
        DiffusersConfig config = ckpt.config();
        DenoiserFamily family = family(config);
        return type == ComputeType.FLOAT32 ? family.load(ckpt, config, budget)
                : family.load(ckpt, config, budget, type);
    }

    /**
     * The model {@code config} defines, without allocating a weight: its parameter shapes and block layout, from
     * the family registered for its {@code _class_name}.
     *
     * @throws CheckpointException for a {@code _class_name} no family loads (the message names the config file and
     *                             lists those known), or as the family's {@link DenoiserFamily#describe}
     */
    public static ModelDescription describe(DiffusersConfig config) throws IOException {
        return family(config).describe(config);
    }

    /** The family registered for {@code className}, if one on the class path loads it. */
    public static Optional<DenoiserFamily> family(String className) {
        return Optional.ofNullable(Registry.FAMILIES.get(className));
    }

    /** The family registered for {@code config}'s {@code _class_name}. */
    private static DenoiserFamily family(DiffusersConfig config) throws CheckpointException {
        DenoiserFamily family = Registry.FAMILIES.get(config.className());
        if (family == null) {
            throw new CheckpointException(config.source() + ": unknown model type \"" + config.className()
                    + (config.isTransformers() ? "\" (a transformers model, no _class_name), expected a diffusers "
                    + "transformer, _class_name one of " : "\" in _class_name, expected one of ") + classNames());
        }
        return family;
    }

    /** The {@code _class_name}s of every family on the class path, sorted. */
    public static Set<String> classNames() {
        return Collections.unmodifiableSet(new TreeSet<>(Registry.FAMILIES.keySet()));
    }

    /** The families, read once: the class path does not change while we run. */
    private static final class Registry {
        static final Map<String, DenoiserFamily> FAMILIES = find();

        private static Map<String, DenoiserFamily> find() {
            Map<String, DenoiserFamily> out = new LinkedHashMap<>();
            for (DenoiserFamily f : ServiceLoader.load(DenoiserFamily.class, ModelLoader.class.getClassLoader())) {
                for (String name : f.classNames()) {
                    DenoiserFamily earlier = out.putIfAbsent(name, f);
                    if (earlier != null && earlier.getClass() != f.getClass()) {
                        throw new IllegalStateException("two model families load _class_name \"" + name + "\": "
                                + earlier.getClass().getName() + " and " + f.getClass().getName()
                                + "; remove one from the class path");
                    }
                }
            }
            return out;
        }
    }
}
