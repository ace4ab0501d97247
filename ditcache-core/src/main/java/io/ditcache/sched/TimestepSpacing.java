package io.ditcache.sched;

/**
 * diffusers' {@code timestep_spacing}: how N inference timesteps are placed in {@code [0, T)} (Table 2 of
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed").
 */
enum TimestepSpacing {
    LINSPACE("linspace"),
    LEADING("leading"),
    TRAILING("trailing");

    final String key;

    TimestepSpacing(String key) {
        this.key = key;
    }

    static TimestepSpacing read(SchedulerConfig config, TimestepSpacing def) {
        String s = config.choice("timestep_spacing", def.key, "linspace", "leading", "trailing");
        for (TimestepSpacing t : values()) {
            if (t.key.equals(s)) {
                return t;
            }
        }
        throw new AssertionError(s);
    }

    /**
     * DDIM's and DDPM's integer timesteps ({@link #timesteps} with linspace rounded).
     *
     * @throws IllegalArgumentException if {@code n} is not in {@code [1, trainSteps]} or a timestep falls
     *                                  outside {@code [0, trainSteps)} (too large a steps_offset)
     */
    double[] integerTimesteps(int trainSteps, int n, int stepsOffset, String scheduler) {
        checkCount(trainSteps, n, scheduler);
        double[] t = timesteps(trainSteps, n, stepsOffset, true);
        for (int i = 0; i < t.length; i++) {
            t[i] = (int) t[i];
            checkRange(trainSteps, t[i], scheduler);
        }
        return t;
    }

    /** For the schedulers whose count has no upper bound (DPM-Solver++, FlowMatch). */
    static void checkPositive(int n, String scheduler) {
        if (n < 1) {
            throw new IllegalArgumentException(scheduler + ": numInferenceSteps must be >= 1, got " + n);
        }
    }

    static void checkCount(int trainSteps, int n, String scheduler) {
        if (n < 1 || n > trainSteps) {
            throw new IllegalArgumentException(scheduler + ": numInferenceSteps must be in [1, " + trainSteps
                    + "] (num_train_timesteps), got " + n);
        }
    }

    static void checkRange(int trainSteps, double t, String scheduler) {
        if (t < 0 || t >= trainSteps) {
            throw new IllegalArgumentException(scheduler + ": timestep " + t + " falls outside [0, " + trainSteps
                    + "); lower steps_offset or the number of steps");
        }
    }

    /**
     * The descending timesteps of DDIM, DDPM and Euler (float64, before diffusers casts them):
     * <ul>
     *   <li>linspace: {@code linspace(0, T-1, N)}, rounded when {@code roundLinspace} (DDIM/DDPM; Euler
     *       keeps the fractions);</li>
     *   <li>leading: {@code round(arange(N) * (T // N)) + stepsOffset};</li>
     *   <li>trailing: {@code round(arange(T, 0, -T/N)) - 1} (NumPy's arange may give N+1 points).</li>
     * </ul>
     */
    double[] timesteps(int trainSteps, int n, int stepsOffset, boolean roundLinspace) {
        switch (this) {
            case LINSPACE: {
                double[] t = NumpyMath.linspace(0, trainSteps - 1, n);
                return NumpyMath.reverse(roundLinspace ? NumpyMath.round(t) : t);
            }
            case LEADING: {
                int ratio = trainSteps / n;
                double[] t = new double[n];
                for (int i = 0; i < n; i++) {
                    t[i] = (double) (n - 1 - i) * ratio + stepsOffset;
                }
                return t;
            }
            case TRAILING: {
                double[] t = NumpyMath.round(NumpyMath.arange(trainSteps, 0, -((double) trainSteps / n)));
                for (int i = 0; i < t.length; i++) {
                    t[i] -= 1;
                }
                return t;
            }
            default:
                throw new AssertionError(this);
        }
    }
}
