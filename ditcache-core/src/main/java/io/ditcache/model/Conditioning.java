package io.ditcache.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a batch of latents is conditioned on, one row per batch row: class labels ({@link ClassLabels}) or text
 * embeddings with their mask and pooled vector ({@link TextEmbeddings}), each with the latent size asked for
 * (non-square images, video frames; empty for the model's default). A {@link Denoiser} says which kinds it
 * takes and refuses the others.
 *
 * <p>A guided batch is {@code concat(cond, denoiser.unconditional(cond))}: the conditional rows, then the
 * unconditional ones, as {@link io.ditcache.Step#rows()} describes them.
 */
public sealed interface Conditioning permits ClassLabels, TextEmbeddings {
    /** Batch rows (one per sample and guidance branch). */
    int rows();

    /** The latent size asked for; empty for the model's default. */
    Optional<LatentSize> size();

    /**
     * This conditioning's rows followed by {@code next}'s.
     *
     * @throws IllegalArgumentException if {@code next} is of another kind, asks for another latent size, or
     *                                  cannot be stacked with this one (text of another width), naming the field
     */
    Conditioning concat(Conditioning next);

    /** The rows of {@code parts} in order, as one conditioning (see {@link #concat(Conditioning)}). */
    static Conditioning concat(List<? extends Conditioning> parts) {
        Objects.requireNonNull(parts, "parts");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no conditioning to concatenate");
        }
        if (parts.size() > 1 && parts.stream().allMatch(p -> p instanceof ClassLabels)) {
            // plain Java rows: one copy, not one per part
            return ClassLabels.concat(parts.stream().map(ClassLabels.class::cast).toList());
        }
        Conditioning out = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
            out = out.concat(parts.get(i));
        }
        return out;
    }

    /** Shared by the kinds: refuses stacking rows that ask for different latent sizes. */
    static void checkSameSize(Conditioning a, Conditioning b) {
        if (!a.size().equals(b.size())) {
            throw new IllegalArgumentException("conditioning size is " + a.size().map(Object::toString)
                    .orElse("the model's default") + " in one part and " + b.size().map(Object::toString)
                    .orElse("the model's default") + " in the other; one batch has one latent size");
        }
    }
}
