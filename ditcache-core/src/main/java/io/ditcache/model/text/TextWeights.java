package io.ditcache.model.text;

import io.ditcache.internal.Tensors;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.layers.Weights;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A transformers checkpoint's weights checked against, and copied into, a text encoder: as
 * {@link Weights#load}, but a parameter may be stored under another key (T5's {@code encoder.embed_tokens.weight}
 * for {@code shared.weight}) and a few stored tensors that transformers itself skips may be present (CLIP's
 * {@code position_ids} buffer, written by transformers 4).
 */
final class TextWeights {
    private TextWeights() {
    }

    /**
     * Checks every key, shape and dtype before anything is copied.
     *
     * @param shapes  parameter keys with the shapes config.json implies
     * @param stored  the checkpoint key each parameter is read from (every key of {@code shapes})
     * @param skipped checkpoint keys that may be present and are not read
     * @throws CheckpointException naming the weight file and the key
     */
    static void check(Map<String, long[]> shapes, Map<String, String> stored, Set<String> skipped, Checkpoint ckpt,
            String className) throws CheckpointException {
        TreeSet<String> missing = new TreeSet<>(stored.values());
        missing.removeAll(ckpt.names());
        TreeSet<String> unexpected = new TreeSet<>(ckpt.names());
        unexpected.removeAll(stored.values());
        unexpected.removeAll(skipped);
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new CheckpointException(ckpt.source() + ": weights do not match " + className + ": missing keys "
                    + preview(missing) + ", unexpected keys " + preview(unexpected)
                    + (unexpected.isEmpty() ? "" : " (first in " + ckpt.sourceOf(unexpected.first()) + ")"));
        }
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String key = stored.get(e.getKey());
            TensorInfo info = ckpt.info(key);
            if (!Arrays.equals(info.dims(), e.getValue())) {
                throw new CheckpointException(ckpt.sourceOf(key) + ": tensor " + key + " has shape "
                        + Arrays.toString(info.dims()) + ", but config.json implies " + Arrays.toString(e.getValue()));
            }
            if (!info.dtype().isFloatingPoint()) {
                throw new CheckpointException(ckpt.sourceOf(key) + ": tensor " + key + " has dtype " + info.dtype()
                        + ", expected F32, F16 or BF16");
            }
        }
    }

    /** Copies the checked weights into {@code model}, one tensor at a time, converted to the parameters' dtype. */
    static void copy(Module model, Map<String, long[]> shapes, Map<String, String> stored, Checkpoint ckpt,
            String className) {
        Map<String, Tensor> targets = Weights.stateDict(model);
        if (!targets.keySet().equals(shapes.keySet()) || !shapes.entrySet().stream().allMatch(e -> Arrays.equals(
                Tensors.shape(targets.get(e.getKey())), e.getValue()))) {
            throw new IllegalStateException(className + ": the module's parameters differ from the shapes its "
                    + "configuration implies (a bug in io.ditcache.model.text)");
        }
        try (NoGradGuard guard = new NoGradGuard()) {
            for (String key : shapes.keySet()) {
                try (PointerScope scope = new PointerScope()) {
                    targets.get(key).copy_(ckpt.load(stored.get(key)));
                }
            }
        }
    }

    private static String preview(TreeSet<String> keys) {
        if (keys.isEmpty()) {
            return "[]";
        }
        StringBuilder b = new StringBuilder("[");
        int i = 0;
        for (String k : keys) {
            if (i == 5) {
                b.append(", ... (").append(keys.size()).append(" in all)");
                break;
            }
            b.append(i++ == 0 ? "" : ", ").append(k);
        }
        return b.append(']').toString();
    }
}
