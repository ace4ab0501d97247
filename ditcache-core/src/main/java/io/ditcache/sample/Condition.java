package io.ditcache.sample;

/**
 * One sampling run's condition: a class label and the seed of its initial noise (and of any noise its
 * scheduler draws). Each condition is one sample, whatever the batch it runs in.
 */
public record Condition(int classLabel, long seed) {
    public Condition {
        if (classLabel < 0) {
            throw new IllegalArgumentException("class label must be >= 0, got " + classLabel);
        }
    }
}
