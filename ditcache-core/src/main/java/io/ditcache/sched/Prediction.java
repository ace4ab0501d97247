package io.ditcache.sched;

import static io.ditcache.sched.StepMath.over;
import static io.ditcache.sched.StepMath.times;

import org.bytedeco.pytorch.Tensor;

/** What the model predicts (diffusers' {@code prediction_type}). */
enum Prediction {
    /** The noise. */
    EPSILON("epsilon"),
    /** The velocity {@code alpha * eps - sigma * x0}. */
    V_PREDICTION("v_prediction"),
    /** The clean sample x0. */
    SAMPLE("sample");

    final String key;

    Prediction(String key) {
        this.key = key;
    }

    static Prediction read(SchedulerConfig config) {
        return of(config.choice("prediction_type", "epsilon", "epsilon", "v_prediction", "sample"));
    }

    static Prediction of(String s) {
        for (Prediction p : values()) {
            if (p.key.equals(s)) {
                return p;
            }
        }
        throw new AssertionError(s);
    }

    /**
     * diffusers' {@code pred_original_sample} (x0) from a float32 model output {@code out} at the sample
     * {@code x = alpha * x0 + sigma * eps}; for "sample" it is {@code out} itself.
     */
    Tensor originalSample(Tensor out, Tensor x, float alpha, float sigma) {
        switch (this) {
            case EPSILON:
                return over(x.sub(times(out, sigma)), alpha);
            case SAMPLE:
                return out;
            case V_PREDICTION:
                return times(x, alpha).sub(times(out, sigma));
            default:
                throw new AssertionError(this);
        }
    }

    /** diffusers' {@code pred_epsilon} (the noise), given {@code x0 = originalSample(out, x, alpha, sigma)}. */
    Tensor noise(Tensor out, Tensor x, Tensor x0, float alpha, float sigma) {
        switch (this) {
            case EPSILON:
                return out;
            case SAMPLE:
                return over(x.sub(times(x0, alpha)), sigma);
            case V_PREDICTION:
                return times(out, alpha).add(times(x, sigma));
            default:
                throw new AssertionError(this);
        }
    }
}
