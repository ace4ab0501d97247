package io.ditcache.train;

/**
 * Hyper-parameters of DDPM epsilon-prediction training. {@link #defaults()} is the recipe of the trained
 * default model.
 *
 * @param steps         optimiser steps in total (a resumed run continues up to this count)
 * @param batchSize     images per step
 * @param learningRate  AdamW peak learning rate
 * @param warmupSteps   linear warm-up from 0 to the peak
 * @param weightDecay   AdamW decoupled weight decay
 * @param emaDecay      decay of the exponential moving average of the weights
 * @param classDropout  probability of replacing a label with the null class (for classifier-free guidance)
 * @param seed          seed of every random draw (each step's draws depend only on seed and step)
 */
public record TrainingOptions(int steps, int batchSize, double learningRate, int warmupSteps, double weightDecay,
        double emaDecay, double classDropout, long seed) {

    public TrainingOptions {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmupSteps);
        }
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + emaDecay);
        }
        if (!(classDropout >= 0 && classDropout < 1)) {
            throw new IllegalArgumentException("class dropout must be in [0, 1), got " + classDropout);
        }
    }

    /** AdamW lr 1e-3 after 200 warm-up steps, batch 128, EMA 0.999, class dropout 0.1, no weight decay. */
    public static TrainingOptions defaults(int steps) {
        return new TrainingOptions(steps, 128, 1e-3, 200, 0.0, 0.999, 0.1, 0L);
    }

    /** Learning rate at optimiser step {@code step} (0-based). */
    public double learningRate(long step) {
        return warmupSteps == 0 ? learningRate : learningRate * Math.min(1.0, (step + 1.0) / warmupSteps);
    }
}
