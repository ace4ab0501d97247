package io.ditcache.sample;

import io.ditcache.model.ClassLabels;
import io.ditcache.model.Conditioning;
import java.util.Objects;

/**
 * One sampling run's condition: what the sample is conditioned on (one row) and the seed of its initial noise
 * (and of any noise its scheduler draws). Each condition is one sample, whatever the batch it runs in.
 *
 * @param conditioning one row: a class label, a prompt's embeddings, with the latent size asked for
 * @param seed         the sample's noise seed
 */
public record Condition(Conditioning conditioning, long seed) {
    public Condition {
        Objects.requireNonNull(conditioning, "conditioning");
        if (conditioning.rows() != 1) {
            throw new IllegalArgumentException("a condition is one sample, got a conditioning of "
                    + conditioning.rows() + " rows");
        }
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
