package io.ditcache.sched;

import static io.ditcache.sched.StepMath.over;
import static io.ditcache.sched.StepMath.sqrt;
import static io.ditcache.sched.StepMath.times;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Euler's method on the probability-flow ODE in sigma space (k-diffusion's "Euler"), as diffusers'
 * {@code EulerDiscreteScheduler} without churn ({@code s_churn = 0}).
 *
 * <p>Sigmas are {@code sqrt((1 - alphas_cumprod) / alphas_cumprod)} linearly interpolated
 * ({@code np.interp}) at the timesteps, followed by a final 0 (or sigma_min). The model input is
 * {@code sample / sqrt(sigma^2 + 1)} and the initial noise is scaled by the largest sigma.
 *
 * <p>Config (defaults): the {@link NoiseSchedule} keys, {@code prediction_type} ("epsilon",
 * "v_prediction", "sample"/"original_sample"), {@code timestep_spacing} ("linspace"), {@code steps_offset}
 * (0), {@code final_sigmas_type} ("zero", "sigma_min"), {@code interpolation_type} ("linear"),
 * {@code timestep_type} ("discrete"; "continuous" only matters, and is not supported, with v_prediction).
 * Karras / exponential / beta sigmas are not supported.
 */
final class EulerDiscreteScheduler extends AbstractScheduler {
    private final NoiseSchedule schedule;
    private final String predictionKey;
    private final Prediction prediction;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private final String finalSigmasType;

    EulerDiscreteScheduler(SchedulerConfig config) {
        super("euler");
        schedule = NoiseSchedule.read(config);
        predictionKey = config.choice("prediction_type", "epsilon",
                "epsilon", "v_prediction", "sample", "original_sample");
        prediction = Prediction.of("original_sample".equals(predictionKey) ? "sample" : predictionKey);
        spacing = TimestepSpacing.read(config, TimestepSpacing.LINSPACE);
        stepsOffset = config.integerAtLeast("steps_offset", 0, 0);
        finalSigmasType = config.choice("final_sigmas_type", "zero", "zero", "sigma_min");
        config.choice("interpolation_type", "linear", "linear");
        String timestepType = config.choice("timestep_type", "discrete", "discrete", "continuous");
        if ("continuous".equals(timestepType) && prediction == Prediction.V_PREDICTION) {
            throw config.unsupported("timestep_type", timestepType, "\"discrete\" (with v_prediction)");
        }
        for (String off : new String[] {"use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas"}) {
            config.requireOff(off);
        }
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.checkCount(schedule.trainSteps, numInferenceSteps, name());
        double[] t = spacing.timesteps(schedule.trainSteps, numInferenceSteps, stepsOffset, false);
        float[] trainSigmas = schedule.sigmas();
        double[] ts = new double[t.length];
        float[] s = new float[t.length + 1];
        for (int i = 0; i < t.length; i++) {
            ts[i] = (float) t[i];
            s[i] = (float) NumpyMath.interpOnIndexGrid(ts[i], trainSigmas);
        }
        s[t.length] = "zero".equals(finalSigmasType) ? 0f : trainSigmas[0];
        prepare(ts, s);
    }

    @Override
    public double initNoiseSigma() {
        float max = Float.NEGATIVE_INFINITY;
        for (float s : sigmas()) {
            max = Math.max(max, s);
        }
        return spacing == TimestepSpacing.LEADING ? sqrt(max * max + 1f) : max;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, int stepIndex) {
        checkStep(stepIndex);
        float sigma = sigma(stepIndex);
        return StepMath.owned(() -> StepMath.dtypeOf(over(StepMath.float32(sample), sqrt(sigma * sigma + 1f)), sample));
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex, modelOutput, sample);
        float sigma = sigma(stepIndex);
        float sigmaHat = sigma; // sigma * (gamma + 1) with gamma = 0 (no churn)
        float dt = sigma(stepIndex + 1) - sigmaHat;
        return StepMath.owned(() -> {
            Tensor x = StepMath.float32(sample);
            Tensor out = StepMath.float32(modelOutput);
            Tensor x0;
            switch (prediction) {
                case EPSILON:
                    x0 = x.sub(times(out, sigmaHat));
                    break;
                case V_PREDICTION:
                    x0 = times(out, -sigma / sqrt(sigma * sigma + 1f)).add(over(x, sigma * sigma + 1f));
                    break;
                case SAMPLE:
                    x0 = out;
                    break;
                default:
                    throw new AssertionError(prediction);
            }
            Tensor derivative = over(x.sub(x0), sigmaHat);
            return StepMath.dtypeOf(x.add(times(derivative, dt)), modelOutput);
        });
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("EulerDiscreteScheduler");
        schedule.describeInto(d);
        d.put("prediction_type", predictionKey);
        d.put("timestep_spacing", spacing.key);
        d.put("steps_offset", stepsOffset);
        d.put("final_sigmas_type", finalSigmasType);
        d.put("interpolation_type", "linear");
        return d;
    }

    NoiseSchedule schedule() {
        return schedule;
    }
}
