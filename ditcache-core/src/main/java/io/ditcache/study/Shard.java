package io.ditcache.study;

/**
 * Which part of a study one process runs: shard {@code index} of {@code count} (1-based) takes every
 * {@code count}-th condition, starting with condition {@code index - 1}.
 */
public record Shard(int index, int count) {
    /** The whole study. */
    public static final Shard ALL = new Shard(1, 1);

    public Shard {
        if (count < 1 || index < 1 || index > count) {
            throw new IllegalArgumentException("shard " + index + "/" + count + ": expected i/n with 1 <= i <= n");
        }
    }

    /**
     * Parses {@code "i/n"}.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static Shard parse(String text) {
        String[] parts = text.trim().split("/", -1);
        if (parts.length == 2) {
            try {
                return new Shard(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("shard \"" + text + "\": expected i/n with 1 <= i <= n, for example 2/4");
    }

    /** Whether this shard runs condition {@code condition} (0-based). */
    public boolean includes(int condition) {
        return condition % count == index - 1;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
