package io.ditcache.sample;

import io.ditcache.model.ClassLabels;
import io.ditcache.model.Conditioning;
import java.util.Objects;
import java.util.Optional;

/**
 * One sampling run's condition: what the sample is conditioned on (one row), the seed of its initial noise
 * (and of any noise its scheduler draws) and, optionally, its own unconditional conditioning for
 * classifier-free guidance (a negative prompt's embeddings). Each condition is one sample, whatever the batch it
 * runs in.
 *
 * @param conditioning one row: a class label, a prompt's embeddings, with the latent size asked for
 * @param seed         the sample's noise seed
 * @param negative     one row of the same kind used in place of the model's {@link
 *                     io.ditcache.model.Denoiser#unconditional unconditional} row when guidance runs a second
 *                     branch; empty for the model's own
 */
public record Condition(Conditioning conditioning, long seed, Optional<Conditioning> negative) {
    public Condition {
        Objects.requireNonNull(conditioning, "conditioning");
        Objects.requireNonNull(negative, "negative");
        if (conditioning.rows() != 1) {
            throw new IllegalArgumentException("a condition is one sample, got a conditioning of "
                    + conditioning.rows() + " rows");
        }
        if (negative.isPresent()) {
            Conditioning n = negative.get();
            if (n.rows() != 1) {
                throw new IllegalArgumentException("a condition's negative conditioning is one row, got "
                        + n.rows() + " rows");
            }
            if (n.getClass() != conditioning.getClass()) {
                throw new IllegalArgumentException("the negative conditioning is " + n.getClass().getSimpleName()
                        + ", expected " + conditioning.getClass().getSimpleName() + " like the condition's");
            }
        }
    }

    /** A condition that guides against the model's own unconditional row. */
    public Condition(Conditioning conditioning, long seed) {
        this(conditioning, seed, Optional.empty());
    }

    /** This condition with its own unconditional conditioning {@code negative} (one row of the same kind). */
    public Condition withNegative(Conditioning negative) {
        return new Condition(conditioning, seed, Optional.of(Objects.requireNonNull(negative, "negative")));
    }

    /** A class-conditional sample at the model's default size. */
    public Condition(int classLabel, long seed) {
        this(classLabel(classLabel), seed);
    }

    private static ClassLabels classLabel(int label) {
        if (label < 0) {
            throw new IllegalArgumentException("class label must be >= 0, got " + label);
        }
        return ClassLabels.of(label);
    }
}
