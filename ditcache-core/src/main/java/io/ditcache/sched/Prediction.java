package io.ditcache.sched;

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
}
