package io.ditcache.model.layers;

import io.ditcache.internal.Tensors;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.TensorInfo;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Moves a checkpoint's weights into a module: every key and shape checked against what the configuration implies
 * before anything is copied, then one tensor at a time from the memory-mapped file (float32, float16 or bfloat16 on
 * disk) into the module's own parameter, converted to its dtype. At no point is there a second copy of the
 * weights: each loaded tensor is freed before the next is read.
 */
public final class Weights {
    private Weights() {
    }

    /**
     * Builds a module with its parameters created directly in {@code type} (libtorch's default dtype set for the
     * construction and restored after), so that a bfloat16 model never holds a float32 copy of its weights, not
     * even zeros. The default dtype is process-wide: do not build models on several threads at once.
     */
    public static <M extends Module> M build(ScalarType type, java.util.function.Supplier<M> constructor) {
        if (type == ScalarType.Float) {
            return constructor.get();
        }
        org.bytedeco.pytorch.TypeMeta before = torch.get_default_dtype();
        torch.set_default_dtype(org.bytedeco.pytorch.TypeMeta.fromScalarType(type));
        try {
            return constructor.get();
        } finally {
            torch.set_default_dtype(before);
        }
    }

    /** Parameter names (diffusers keys) with their shapes, in registration order. */
    public static Map<String, long[]> parameterShapes(Module m) {
        Map<String, long[]> out = new LinkedHashMap<>();
        StringTensorDict params = m.named_parameters(true);
        for (long i = 0; i < params.size(); i++) {
            out.put(params.get(i).key().getString(), Tensors.shape(params.get(i).value()));
        }
        return out;
    }

    /** Parameters by diffusers key: the module's own tensors (not copies). */
    public static Map<String, Tensor> stateDict(Module m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        putAll(m.named_parameters(true), out);
        return out;
    }

    /** Parameters, then buffers (a stored position table, for example), by key: the module's own tensors. */
    public static Map<String, Tensor> parametersAndBuffers(Module m) {
        Map<String, Tensor> out = stateDict(m);
        putAll(m.named_buffers(true), out);
        return out;
    }

    private static void putAll(StringTensorDict dict, Map<String, Tensor> out) {
        for (long i = 0; i < dict.size(); i++) {
            // an item's value lives in the dict: hand out our own handle to the same storage
            out.put(dict.get(i).key().getString(), new Tensor(dict.get(i).value()));
        }
    }

    /**
     * Checks {@code ckpt} against {@code shapes} and copies its weights into {@code model}'s parameters.
     *
     * @param shapes    what the configuration implies (the family's parameter shapes, and any buffer the
     *                  checkpoint stores); must be the module's
     * @param className names the model in messages
     * @param dtype     the dtype the parameters are converted to (Float, or BFloat16 / Half where the device
     *                  computes in it)
     * @throws CheckpointException naming the weight file (the shard, for a sharded checkpoint) and the key: a key
     *                             missing or unexpected, a shape that differs, a tensor that is not floating point
     */
    public static void load(Module model, Map<String, long[]> shapes, Checkpoint ckpt, String className,
            ScalarType dtype) throws CheckpointException {
        check(shapes, ckpt, className);
        Map<String, long[]> own = new LinkedHashMap<>();
        parametersAndBuffers(model).forEach((k, v) -> {
            if (shapes.containsKey(k)) {
                own.put(k, Tensors.shape(v));
            }
        });
        if (!sameShapes(own, shapes) || !parameterShapes(model).keySet().stream().allMatch(shapes::containsKey)) {
            throw new IllegalStateException(className + ": the module's parameters differ from the shapes its "
                    + "configuration implies (a bug in the family)");
        }
        if (dtype != ScalarType.Float) {
            model.to(dtype, false);
        }
        Map<String, Tensor> targets = parametersAndBuffers(model);
        try (NoGradGuard guard = new NoGradGuard()) {
            for (String key : shapes.keySet()) {
                try (PointerScope scope = new PointerScope()) {
                    targets.get(key).copy_(ckpt.load(key));
                }
            }
        }
    }

    /**
     * Checks the checkpoint's header against {@code shapes} without loading a weight.
     *
     * @throws CheckpointException as {@link #load}
     */
    public static void check(Map<String, long[]> shapes, Checkpoint ckpt, String className)
            throws CheckpointException {
        TreeSet<String> missing = new TreeSet<>(shapes.keySet());
        missing.removeAll(ckpt.names());
        TreeSet<String> unexpected = new TreeSet<>(ckpt.names());
        unexpected.removeAll(shapes.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new CheckpointException(ckpt.source() + ": weights do not match " + className + ": missing keys "
                    + preview(missing) + ", unexpected keys " + preview(unexpected)
                    + (unexpected.isEmpty() ? "" : " (first in " + ckpt.sourceOf(unexpected.first()) + ")"));
        }
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            TensorInfo info = ckpt.info(e.getKey());
            String file = ckpt.sourceOf(e.getKey());
            if (!Arrays.equals(info.dims(), e.getValue())) {
                throw new CheckpointException(file + ": tensor " + e.getKey() + " has shape "
                        + Arrays.toString(info.dims()) + ", but config.json implies "
                        + Arrays.toString(e.getValue()));
            }
            if (!info.dtype().isFloatingPoint()) {
                throw new CheckpointException(file + ": tensor " + e.getKey() + " has dtype " + info.dtype()
                        + ", expected F32, F16 or BF16");
            }
        }
    }

    private static boolean sameShapes(Map<String, long[]> a, Map<String, long[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        return a.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), b.get(e.getKey())));
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
