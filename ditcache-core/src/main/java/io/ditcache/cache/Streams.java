package io.ditcache.cache;

import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * The hidden states a block takes and returns, batch rows first: the image stream, and for joint blocks (SD3,
 * FLUX double, Mochi) the context (text) stream. cache-dit's forward patterns reduce to these two shapes.
 *
 * @param image   {@code [rows, ...]}
 * @param context {@code [rows, ...]}, or null for an image-only block
 */
public record Streams(Tensor image, Tensor context) {
    public Streams {
        Objects.requireNonNull(image, "image");
    }

    /** An image-only block's stream. */
    public static Streams of(Tensor image) {
        return new Streams(image, null);
    }

    /** A joint block's two streams. */
    public static Streams joint(Tensor image, Tensor context) {
        return new Streams(image, Objects.requireNonNull(context, "context"));
    }

    /** Whether a context stream is present. */
    public boolean hasContext() {
        return context != null;
    }

    /** These streams restricted to {@code rows}. */
    public Streams select(Rows rows) {
        return new Streams(rows.select(image), context == null ? null : rows.select(context));
    }
}
