package io.ditcache.sched;

import static io.ditcache.sched.StepMath.exp;
import static io.ditcache.sched.StepMath.log;
import static io.ditcache.sched.StepMath.sqrt;
import static io.ditcache.sched.StepMath.times;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Multistep DPM-Solver++ (data prediction), as diffusers' {@code DPMSolverMultistepScheduler} with
 * {@code algorithm_type="dpmsolver++"}.
 *
 * <p>Config (defaults): the {@link NoiseSchedule} keys, {@code solver_order} (2; 1 or 2), {@code solver_type}
 * ("midpoint", "heun"), {@code prediction_type} ("epsilon", "v_prediction", "sample"),
 * {@code lower_order_final} (true), {@code euler_at_final} (false), {@code final_sigmas_type} ("zero",
 * "sigma_min"), {@code lambda_min_clipped} (-inf), {@code timestep_spacing} ("linspace"),
 * {@code steps_offset} (0). Not supported: other algorithm types, order 3, thresholding, Karras /
 * exponential / beta / Lu / flow sigmas, learned variance, dynamic shifting.
 *
 * <p>State: the data predictions (x0) of the last {@code solver_order} steps, kept alive across steps and
 * released when they are replaced or by {@link #setTimesteps(int)}. Steps must be taken in order.
 */
final class DpmSolverMultistepScheduler extends AbstractScheduler {
    private final NoiseSchedule schedule;
    private final int solverOrder;
    private final String solverType;
    private final Prediction prediction;
    private final boolean lowerOrderFinal;
    private final boolean eulerAtFinal;
    private final String finalSigmasType;
    private final double lambdaMinClipped;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    /** lambda_t = log(alpha_t) - log(sigma_t) per training timestep, float32 (for lambda_min_clipped). */
    private final float[] lambdas;

    /** x0 predictions, oldest first; the last is the current step's. */
    private final Tensor[] dataPredictions;
    private int lowerOrderNums;
    private int nextStep;

    DpmSolverMultistepScheduler(SchedulerConfig config) {
        super("dpm++");
        schedule = NoiseSchedule.read(config);
        solverOrder = config.integer("solver_order", 2);
        if (solverOrder != 1 && solverOrder != 2) {
            throw config.unsupported("solver_order", solverOrder, "1, 2");
        }
        config.choice("algorithm_type", "dpmsolver++", "dpmsolver++");
        solverType = config.choice("solver_type", "midpoint", "midpoint", "heun");
        prediction = Prediction.read(config);
        lowerOrderFinal = config.flag("lower_order_final", true);
        eulerAtFinal = config.flag("euler_at_final", false);
        finalSigmasType = config.choice("final_sigmas_type", "zero", "zero", "sigma_min");
        lambdaMinClipped = config.number("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        spacing = TimestepSpacing.read(config, TimestepSpacing.LINSPACE);
        stepsOffset = config.integerAtLeast("steps_offset", 0, 0);
        for (String off : new String[] {"thresholding", "use_karras_sigmas", "use_exponential_sigmas",
                "use_beta_sigmas", "use_lu_lambdas", "use_flow_sigmas", "use_dynamic_shifting"}) {
            config.requireOff(off);
        }
        config.requireAbsent("variance_type");
        lambdas = new float[schedule.trainSteps];
        for (int t = 0; t < lambdas.length; t++) {
            float a = schedule.alphasCumprod[t];
            lambdas[t] = log(sqrt(a)) - log(sqrt(1f - a));
        }
        dataPredictions = new Tensor[solverOrder];
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.checkPositive(numInferenceSteps, name());
        int trainSteps = schedule.trainSteps;
        // searchsorted(flip(lambda_t), lambda_min_clipped): how many of the lowest lambdas lie below the clip.
        int clipped = 0;
        while (clipped < trainSteps && lambdas[trainSteps - 1 - clipped] < lambdaMinClipped) {
            clipped++;
        }
        int lastTimestep = trainSteps - clipped;
        int n = numInferenceSteps;
        double[] t;
        switch (spacing) {
            case LINSPACE:
                t = NumpyMath.reverse(NumpyMath.round(NumpyMath.linspace(0, lastTimestep - 1, n + 1)));
                t = Arrays.copyOf(t, n);
                break;
            case LEADING: {
                int ratio = lastTimestep / (n + 1);
                t = new double[n];
                for (int i = 0; i < n; i++) {
                    t[i] = (double) (n - i) * ratio + stepsOffset;
                }
                break;
            }
            case TRAILING:
                t = NumpyMath.round(NumpyMath.arange(lastTimestep, 0, -((double) trainSteps / n)));
                for (int i = 0; i < t.length; i++) {
                    t[i] -= 1;
                }
                break;
            default:
                throw new AssertionError(spacing);
        }
        float[] trainSigmas = schedule.sigmas();
        float[] s = new float[t.length + 1];
        for (int i = 0; i < t.length; i++) {
            int ti = (int) t[i];
            TimestepSpacing.checkRange(trainSteps, ti, name());
            t[i] = ti;
            s[i] = trainSigmas[ti];
        }
        s[t.length] = "zero".equals(finalSigmasType) ? 0f : trainSigmas[0];
        resetState();
        prepare(t, s);
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex);
        int n = prepared().length;
        if (stepIndex != nextStep) {
            throw new IllegalStateException(name() + ": multistep solver expects step " + nextStep + ", got "
                    + stepIndex + "; take the steps in order or call setTimesteps to restart");
        }
        StepMath.checkSameShape(modelOutput, "modelOutput", sample, "sample");
        boolean finalStep = stepIndex == n - 1;
        boolean lowerOrderAtEnd = finalStep
                && (eulerAtFinal || (lowerOrderFinal && n < 15) || "zero".equals(finalSigmasType));
        Tensor prev = StepMath.owned(() -> {
            Tensor x = StepMath.float32(sample);
            Tensor x0 = StepMath.keep(dataPrediction(StepMath.float32(modelOutput), x, sigma(stepIndex)));
            StepMath.release(dataPredictions[0]);
            System.arraycopy(dataPredictions, 1, dataPredictions, 0, solverOrder - 1);
            dataPredictions[solverOrder - 1] = x0;
            Tensor next = solverOrder == 1 || lowerOrderNums < 1 || lowerOrderAtEnd
                    ? firstOrderUpdate(x0, x, stepIndex)
                    : secondOrderUpdate(x0, dataPredictions[solverOrder - 2], x, stepIndex);
            return StepMath.dtypeOf(next, modelOutput);
        });
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
        nextStep++;
        return prev;
    }

    /** diffusers' {@code convert_model_output} for dpmsolver++: the model's estimate of x0. */
    private Tensor dataPrediction(Tensor out, Tensor x, float sigma) {
        float alpha = alphaOf(sigma);
        Tensor x0 = prediction.originalSample(out, x, alpha, sigma * alpha);
        return prediction == Prediction.SAMPLE ? x0.clone() : x0; // kept across steps: not the caller's storage
    }

    private Tensor firstOrderUpdate(Tensor m0, Tensor x, int i) {
        float alphaT = alphaOf(sigma(i + 1));
        float sigmaT = sigma(i + 1) * alphaT;
        float alphaS = alphaOf(sigma(i));
        float sigmaS = sigma(i) * alphaS;
        float h = lambda(alphaT, sigmaT) - lambda(alphaS, sigmaS);
        return times(x, sigmaT / sigmaS).sub(times(m0, alphaT * (exp(-h) - 1f)));
    }

    private Tensor secondOrderUpdate(Tensor m0, Tensor m1, Tensor x, int i) {
        float alphaT = alphaOf(sigma(i + 1));
        float sigmaT = sigma(i + 1) * alphaT;
        float alphaS0 = alphaOf(sigma(i));
        float sigmaS0 = sigma(i) * alphaS0;
        float alphaS1 = alphaOf(sigma(i - 1));
        float sigmaS1 = sigma(i - 1) * alphaS1;
        float lambdaT = lambda(alphaT, sigmaT);
        float lambdaS0 = lambda(alphaS0, sigmaS0);
        float lambdaS1 = lambda(alphaS1, sigmaS1);
        float h = lambdaT - lambdaS0;
        float r0 = (lambdaS0 - lambdaS1) / h;
        Tensor d1 = times(m0.sub(m1), 1f / r0);
        float c0 = alphaT * (exp(-h) - 1f);
        Tensor xt = times(x, sigmaT / sigmaS0).sub(times(m0, c0));
        if ("midpoint".equals(solverType)) {
            return xt.sub(times(d1, 0.5f * c0));
        }
        return xt.add(times(d1, alphaT * ((exp(-h) - 1f) / h + 1f)));
    }

    /** alpha_t = 1 / sqrt(sigma^2 + 1) of diffusers' {@code _sigma_to_alpha_sigma_t}; sigma_t = sigma * alpha_t. */
    private static float alphaOf(float sigma) {
        return 1f / sqrt(sigma * sigma + 1f);
    }

    private static float lambda(float alpha, float sigma) {
        return log(alpha) - log(sigma);
    }

    private void resetState() {
        for (int k = 0; k < dataPredictions.length; k++) {
            StepMath.release(dataPredictions[k]);
            dataPredictions[k] = null;
        }
        lowerOrderNums = 0;
        nextStep = 0;
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("DPMSolverMultistepScheduler");
        schedule.describeInto(d);
        d.put("algorithm_type", "dpmsolver++");
        d.put("solver_order", solverOrder);
        d.put("solver_type", solverType);
        d.put("prediction_type", prediction.key);
        d.put("lower_order_final", lowerOrderFinal);
        d.put("euler_at_final", eulerAtFinal);
        d.put("final_sigmas_type", finalSigmasType);
        d.put("lambda_min_clipped", Double.isInfinite(lambdaMinClipped) ? String.valueOf(lambdaMinClipped)
                : lambdaMinClipped);
        d.put("timestep_spacing", spacing.key);
        d.put("steps_offset", stepsOffset);
        return d;
    }

    NoiseSchedule schedule() {
        return schedule;
    }

    float[] lambdas() {
        return lambdas.clone();
    }
}
