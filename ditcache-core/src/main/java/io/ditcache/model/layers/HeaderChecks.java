package io.ditcache.model.layers;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.TensorInfo;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * What a family's layout check reads from a checkpoint's header before anything is allocated: block indices of a
 * block list, a tensor's shape, and the refusal that names the config key, the tensor, its file and both shapes.
 */
public final class HeaderChecks {
    private HeaderChecks() {
    }

    /**
     * The block index of {@code list + N + "." ...} (e.g. {@code transformer_blocks.3.attn.to_q.weight}), or -1
     * for any other name (the full key comparison reports those).
     */
    public static int blockIndex(String name, String list) {
        if (!name.startsWith(list)) {
            return -1;
        }
        int dot = name.indexOf('.', list.length());
        String digits = name.substring(list.length(), dot < 0 ? name.length() : dot);
        if (dot < 0 || digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Integer.parseInt(digits);
    }

    /**
     * Refuses a config whose {@code key} says {@code want} blocks in block list {@code list} (e.g.
     * {@code transformer_blocks.}) when the checkpoint holds another number.
     *
     * @param prefix names config.json
     * @throws CheckpointException naming the key, both counts and the indices found
     */
    public static void blockCount(String prefix, String key, int want, String list, Checkpoint ckpt)
            throws CheckpointException {
        TreeSet<Integer> found = new TreeSet<>();
        for (String name : ckpt.names()) {
            int i = blockIndex(name, list);
            if (i >= 0) {
                found.add(i);
            }
        }
        if (found.size() != want) {
            throw new CheckpointException(prefix + key + " is " + want + ", but " + ckpt.source() + " holds "
                    + found.size() + " blocks " + list + "N" + (found.isEmpty() ? ""
                    : " (" + list + found.first() + " to " + list + found.last() + ")"));
        }
    }

    /**
     * Checks a patch embedding's convolution {@code key} ({@code [d, in_channels, p, p]}) against the config.
     *
     * @param inner how the config makes the inner dim {@code d}, e.g. "num_attention_heads 2 x ... = 32"
     */
    public static void patchProjection(String prefix, Checkpoint ckpt, String key, String inner, long d,
            long inChannels, long p) throws CheckpointException {
        long[] patch = shape(ckpt, key, 4);
        if (patch != null) {
            long[] implied = {d, inChannels, p, p};
            agree(patch[0] == d, prefix, inner, ckpt, key, patch, "inner dim " + patch[0], implied);
            agree(patch[1] == inChannels, prefix, "in_channels is " + inChannels, ckpt, key, patch,
                    patch[1] + " input channels", implied);
            agree(patch[2] == p && patch[3] == p, prefix, "patch_size is " + p, ckpt, key, patch,
                    "patches of " + patch[2] + " x " + patch[3], implied);
        }
    }

    /** Checks the output projection {@code key} ({@code [p * p * out_channels, d]}) against the config. */
    public static void patchOutput(String prefix, Checkpoint ckpt, String key, long d, long p, long outChannels)
            throws CheckpointException {
        long[] out = shape(ckpt, key, 2);
        if (out != null) {
            long pp = p * p;
            long[] implied = {pp * outChannels, d};
            agree(out[0] == pp * outChannels, prefix, "out_channels is " + outChannels, ckpt, key, out,
                    out[0] % pp == 0 ? out[0] / pp + " output channels at patch_size " + p
                            : out[0] + " outputs, not a multiple of patch_size^2 " + pp, implied);
        }
    }

    /**
     * Checks a projection {@code key} ({@code [d, width]}) of an input {@code configKey} wide (a caption
     * projection, cross-attention keys) against the config.
     *
     * @param what what the width is in words, e.g. "captions"
     */
    public static void inputProjection(String prefix, Checkpoint ckpt, String key, String configKey, long width,
            String inner, long d, String what) throws CheckpointException {
        long[] w = shape(ckpt, key, 2);
        if (w != null) {
            long[] implied = {d, width};
            agree(w[1] == width, prefix, configKey + " is " + width, ckpt, key, w, what + " " + w[1] + " wide",
                    implied);
            agree(w[0] == d, prefix, inner, ckpt, key, w, "inner dim " + w[0], implied);
        }
    }

    /** The shape of {@code name} if the checkpoint holds it with {@code rank} dimensions, else null. */
    public static long[] shape(Checkpoint ckpt, String name, int rank) {
        if (!ckpt.contains(name)) {
            return null; // reported as a missing key by the full comparison
        }
        TensorInfo info = ckpt.info(name);
        return info.shape().size() == rank ? info.dims() : null;
    }

    /**
     * Refuses, unless {@code ok}, a config whose {@code key} (e.g. "num_layers is 5") disagrees with
     * {@code tensor}'s {@code shape}.
     *
     * @param prefix     names config.json
     * @param weightsSay what the shape says in words (e.g. "inner dim 32")
     * @param implied    the shape config.json implies
     */
    public static void agree(boolean ok, String prefix, String key, Checkpoint ckpt, String tensor, long[] shape,
            String weightsSay, long[] implied) throws CheckpointException {
        if (!ok) {
            throw new CheckpointException(prefix + key + ", but tensor " + tensor + " in " + ckpt.sourceOf(tensor)
                    + " has shape " + Arrays.toString(shape) + " (" + weightsSay + ") where config.json implies "
                    + Arrays.toString(implied));
        }
    }
}
