package io.ditcache.sched;

import static io.ditcache.sched.StepMath.times;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Euler steps of a rectified-flow (flow matching) model, as diffusers'
 * {@code FlowMatchEulerDiscreteScheduler} with static shifting: {@code x <- x + (sigma_next - sigma) * v}.
 *
 * <p>Sigmas run linearly from the (shifted) largest to the smallest training sigma, are shifted with
 * {@code shift * s / (1 + (shift - 1) * s)} and end with 0; timesteps are {@code sigma * num_train_timesteps}
 * (float32). As in diffusers, the end points of that line are the training sigmas already shifted once.
 * There is no input scaling and the initial noise has sigma 1.
 *
 * <p>Config (defaults): {@code num_train_timesteps} (1000), {@code shift} (1.0). Not supported: dynamic
 * shifting, {@code invert_sigmas}, {@code shift_terminal}, Karras / exponential / beta sigmas, stochastic
 * sampling.
 */
final class FlowMatchEulerScheduler extends AbstractScheduler {
    private final int trainSteps;
    private final double shift;
    private final double sigmaMax;
    private final double sigmaMin;

    FlowMatchEulerScheduler(SchedulerConfig config) {
        super("flowmatch");
        trainSteps = config.trainTimesteps();
        shift = config.positive("shift", 1.0);
        for (String off : new String[] {"use_dynamic_shifting", "invert_sigmas", "use_karras_sigmas",
                "use_exponential_sigmas", "use_beta_sigmas", "stochastic_sampling"}) {
            config.requireOff(off);
        }
        config.requireAbsent("shift_terminal");
        // Training sigmas t / T for t = T..1, shifted in float32 tensor math; only their ends are used.
        sigmaMax = shiftedTrainSigma(trainSteps);
        sigmaMin = shiftedTrainSigma(1);
    }

    private float shiftedTrainSigma(int t) {
        float s = (float) t / trainSteps;
        float k = (float) shift;
        return k * s / (1f + (float) (shift - 1) * s);
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.checkPositive(numInferenceSteps, name());
        double[] t = NumpyMath.linspace(sigmaMax * trainSteps, sigmaMin * trainSteps, numInferenceSteps);
        double[] ts = new double[numInferenceSteps];
        float[] s = new float[numInferenceSteps + 1];
        for (int i = 0; i < numInferenceSteps; i++) {
            double sigma = t[i] / trainSteps;
            s[i] = (float) (shift * sigma / (1 + (shift - 1) * sigma));
            ts[i] = s[i] * (float) trainSteps;
        }
        prepare(ts, s);
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex, modelOutput, sample);
        float dt = sigma(stepIndex + 1) - sigma(stepIndex);
        return StepMath.owned(() -> StepMath.dtypeOf(
                StepMath.float32(sample).add(times(StepMath.float32(modelOutput), dt)), modelOutput));
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("FlowMatchEulerDiscreteScheduler");
        d.put("num_train_timesteps", trainSteps);
        d.put("shift", shift);
        return d;
    }
}
