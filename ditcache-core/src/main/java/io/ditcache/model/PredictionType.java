package io.ditcache.model;

/** What a denoiser's output means to the scheduler (diffusers' {@code prediction_type}, or flow matching). */
public enum PredictionType {
    /** The noise added to the clean sample. */
    EPSILON,
    /** The velocity {@code alpha * eps - sigma * x0}. */
    V_PREDICTION,
    /** The clean sample itself. */
    SAMPLE,
    /** The rectified-flow velocity {@code eps - x0} (SD3, FLUX, Open-Sora 1.2). */
    FLOW
}
