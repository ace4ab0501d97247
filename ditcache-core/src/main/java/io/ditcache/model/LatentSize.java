package io.ditcache.model;

/**
 * The latent grid a sample is asked for, in latent elements (not pixels): {@code frames} of {@code height} x
 * {@code width}. Images have one frame; video latents have more (after the VAE's temporal compression). A
 * conditioning that names no size gets the model's default.
 *
 * @param frames latent frames, >= 1 (1 for an image)
 * @param height latent rows, >= 1
 * @param width  latent columns, >= 1; need not equal {@code height}
 */
public record LatentSize(long frames, long height, long width) {
    public LatentSize {
        check("frames", frames);
        check("height", height);
        check("width", width);
        try {
            Math.multiplyExact(Math.multiplyExact(frames, height), width);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("latent size " + frames + " x " + height + " x " + width
                    + " has more than " + Long.MAX_VALUE + " positions", e);
        }
    }

    /** One image frame of {@code height} x {@code width}. */
    public static LatentSize image(long height, long width) {
        return new LatentSize(1, height, width);
    }

    /** Whether this is a single frame. */
    public boolean isImage() {
        return frames == 1;
    }

    private static void check(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException("latent size " + name + " is " + value + ", expected >= 1");
        }
    }
}
