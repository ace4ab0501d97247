package io.ditcache.model.layers;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.TensorInfo;
import java.util.Arrays;

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
