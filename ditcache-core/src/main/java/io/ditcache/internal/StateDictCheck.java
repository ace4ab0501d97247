package io.ditcache.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;

/** Compares the weights a model needs with the weights a source has, by name and shape, before any is loaded. */
public final class StateDictCheck {
    private StateDictCheck() {
    }

    /**
     * @return null when {@code have} matches {@code want} exactly, else a message naming the source, the missing
     *         and unexpected keys, or the first tensor whose shape differs
     */
    public static String mismatch(Map<String, long[]> want, Map<String, long[]> have, String source, String model) {
        TreeSet<String> missing = new TreeSet<>(want.keySet());
        missing.removeAll(have.keySet());
        TreeSet<String> unexpected = new TreeSet<>(have.keySet());
        unexpected.removeAll(want.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            return source + ": weights do not match " + model + ": missing keys " + preview(missing)
                    + ", unexpected keys " + preview(unexpected);
        }
        for (Map.Entry<String, long[]> e : want.entrySet()) {
            long[] got = have.get(e.getKey());
            if (!Arrays.equals(got, e.getValue())) {
                return source + ": tensor " + e.getKey() + " has shape " + Arrays.toString(got)
                        + ", but config.json implies " + Arrays.toString(e.getValue());
            }
        }
        return null;
    }

    private static String preview(TreeSet<String> keys) {
        if (keys.isEmpty()) {
            return "[]";
        }
        return new ArrayList<>(keys).subList(0, Math.min(5, keys.size()))
                + (keys.size() > 5 ? " and " + (keys.size() - 5) + " more" : "") + " (" + keys.size() + ")";
    }
}
