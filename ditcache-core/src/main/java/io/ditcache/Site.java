package io.ditcache;

import java.util.Objects;

/**
 * Where an activation is observed: a block (layer, in execution order), a kind and a token stream.
 *
 * @param layer  block index in execution order, from 0
 * @param kind   what is observed
 * @param stream which tokens
 */
public record Site(int layer, SiteKind kind, TokenStream stream) {
    public Site {
        if (layer < 0) {
            throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(stream, "stream");
    }

    /** An image-stream site. */
    public static Site of(int layer, SiteKind kind) {
        return new Site(layer, kind, TokenStream.IMAGE);
    }
}
