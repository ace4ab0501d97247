package io.ditcache.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Denoiser} is, as profiles, studies and checkpoints record it.
 *
 * @param className      diffusers' {@code _class_name} of the family (the key its {@link DenoiserFamily} is found
 *                       by)
 * @param config         the model's {@code config.json} as its family writes it, in key order: with the weights,
 *                       what identifies the model
 * @param parameterCount number of weights (elements of {@link Denoiser#stateDict()})
 * @param prediction     what the output predicts
 * @param learnedSigma   whether the network also outputs a variance, which {@link Denoiser#forward} drops
 * @param inChannels     latent channels the model takes
 * @param classes        class labels a class-conditional model knows ({@code 0 .. classes-1}); 0 for a model
 *                       not conditioned on class labels
 */
public record DenoiserInfo(String className, Map<String, Object> config, long parameterCount,
        PredictionType prediction, boolean learnedSigma, int inChannels, int classes) {
    public DenoiserInfo {
        Objects.requireNonNull(className, "className");
        if (className.isBlank()) {
            throw new IllegalArgumentException("className is blank");
        }
        // insertion order is the file's key order: profiles written from it stay byte for byte the same
        config = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(config, "config")));
        Objects.requireNonNull(prediction, "prediction");
        if (parameterCount < 0) {
            throw new IllegalArgumentException("parameterCount is " + parameterCount + ", expected >= 0");
        }
        if (inChannels < 1) {
            throw new IllegalArgumentException("inChannels is " + inChannels + ", expected >= 1");
        }
        if (classes < 0) {
            throw new IllegalArgumentException("classes is " + classes + ", expected >= 0");
        }
    }

    /** Whether the model is conditioned on class labels. */
    public boolean classConditional() {
        return classes > 0;
    }
}
