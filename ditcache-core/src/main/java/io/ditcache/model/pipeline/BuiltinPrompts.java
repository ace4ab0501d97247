package io.ditcache.model.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * ditcache's own prompt set: {@value #SIZE} varied prompts written for this project (objects, animals, people,
 * food, landscapes, interiors, and styles from photographs to paintings, sketches and renders), to profile and study
 * text models without a caption data set. The first is {@code "a red cube on a white table, soft studio light"}.
 */
public final class BuiltinPrompts {
    /** How many prompts the set holds. */
    public static final int SIZE = 100;
    private static final String RESOURCE = "prompts.txt";

    private BuiltinPrompts() {
    }

    /** All {@value #SIZE} prompts, in their fixed order. */
    public static List<String> all() {
        try (InputStream in = BuiltinPrompts.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the built-in prompt set " + RESOURCE + " is missing from the jar");
            }
            List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank()).toList();
            if (lines.size() != SIZE) {
                throw new IllegalStateException("the built-in prompt set holds " + lines.size() + " prompts, expected "
                        + SIZE);
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first {@code n} prompts.
     *
     * @throws IllegalArgumentException for {@code n} outside 1..{@value #SIZE}
     */
    public static List<String> first(int n) {
        if (n < 1 || n > SIZE) {
            throw new IllegalArgumentException("built-in prompts: " + n + " asked, expected 1 to " + SIZE);
        }
        return all().subList(0, n);
    }
}
