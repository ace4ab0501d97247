package io.ditcache;

import java.util.Objects;

/**
 * The kind of block a model runs, by the list it sits in (cache-dit's block lists): policies and planners can
 * treat groups apart (PAB's spatial and temporal ranges, per-group settings), and a model with several groups
 * declares which block belongs to which.
 *
 * @param name a short lowercase name, e.g. {@code "double"}
 */
public record BlockGroup(String name) {
    /** Plain image-stream blocks (DiT, PixArt, CogVideoX). */
    public static final BlockGroup PLAIN = new BlockGroup("plain");
    /** Joint blocks updating an image and a context stream (SD3, Mochi). */
    public static final BlockGroup JOINT = new BlockGroup("joint");
    /** FLUX's double-stream blocks (joint, image and context). */
    public static final BlockGroup DOUBLE = new BlockGroup("double");
    /** FLUX's single-stream blocks over the concatenated [text; image] sequence. */
    public static final BlockGroup SINGLE = new BlockGroup("single");
    /** Latte's and STDiT's per-frame blocks. */
    public static final BlockGroup SPATIAL = new BlockGroup("spatial");
    /** Latte's and STDiT's per-position blocks over frames. */
    public static final BlockGroup TEMPORAL = new BlockGroup("temporal");
    /** The whole model as one block: an opaque denoiser cached per step. */
    public static final BlockGroup MODEL = new BlockGroup("model");

    public BlockGroup {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[a-z][a-z0-9_-]*")) {
            throw new IllegalArgumentException("block group name \"" + name + "\": expected lowercase letters, "
                    + "digits, '_' or '-', starting with a letter");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
