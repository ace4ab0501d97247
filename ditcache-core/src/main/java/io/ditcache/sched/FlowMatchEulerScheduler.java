package io.ditcache.sched;

import static io.ditcache.sched.StepMath.times;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Euler steps of a rectified-flow (flow matching) model, as diffusers'
 * {@code FlowMatchEulerDiscreteScheduler}: {@code x <- x + (sigma_next - sigma) * v}. There is no input scaling
 * and the initial noise has sigma 1; timesteps are {@code sigma * num_train_timesteps} (float32) and the sigmas
 * end with 0.
 *
 * <p><b>Static shifting</b> ({@code use_dynamic_shifting} false): sigmas run linearly from the (shifted) largest
 * to the smallest training sigma and are shifted with {@code shift * s / (1 + (shift - 1) * s)}. As in diffusers,
 * the end points of that line are the training sigmas already shifted once.
 *
 * <p><b>Dynamic shifting</b> ({@code use_dynamic_shifting} true, FLUX.1): the shift depends on the image sequence
 * length, so the steps must be prepared with {@link #setTimesteps(int, long)}. As FluxPipeline does, the sigmas
 * are {@code linspace(1, 1/n, n)} (float64), {@code mu = m * len + b} on the line through
 * {@code (base_image_seq_len, base_shift)} and {@code (max_image_seq_len, max_shift)} (diffusers'
 * {@code calculate_shift}), and each sigma becomes {@code e^mu / (e^mu + (1/s - 1))} ({@code time_shift_type}
 * "exponential") or {@code mu / (mu + (1/s - 1))} ("linear"), in float64, then float32.
 *
 * <p><b>Linear-quadratic sigmas</b> ({@code sigma_schedule} "linear_quadratic", a ditcache key: MochiPipeline
 * computes them and passes them as {@code sigmas}): with {@code n} steps, {@code m = n / 2} (integer division) and
 * threshold {@code a} ({@code threshold_noise}, 0.025), the noise levels are {@code u_i = i a / m} for
 * {@code i < m}, then {@code q i^2 + l i + c} for {@code m <= i < n}, where {@code g = m - a n},
 * {@code q = g / (m (n - m)^2)}, {@code l = a / m - 2 g / (n - m)^2}, {@code c = q m^2} (float64, diffusers'
 * {@code linear_quadratic_schedule}); the sigmas are {@code 1 - u_i} cast to float32, then shifted as above
 * (float32; no change at shift 1). MochiPipeline's own scheduler has {@code invert_sigmas}, which steps the
 * reversed sigmas {@code 1 - sigma} with the transformer's negated output; that is the same step, and
 * {@link io.ditcache.model.mochi.MochiModel} gives this scheduler the velocity it expects.
 *
 * <p>Config (defaults): {@code num_train_timesteps} (1000), {@code shift} (1.0, static only),
 * {@code use_dynamic_shifting} (false), {@code base_shift} (0.5), {@code max_shift} (1.15),
 * {@code base_image_seq_len} (256), {@code max_image_seq_len} (4096), {@code time_shift_type} ("exponential"),
 * {@code sigma_schedule} ("linear", "linear_quadratic" or "flux": FluxPipeline's {@code linspace(1, 1/n, n)},
 * which the dynamic path always uses; "linear"), {@code threshold_noise} (0.025).
 * Not supported: {@code invert_sigmas}, {@code shift_terminal}, Karras / exponential / beta sigmas, stochastic
 * sampling.
 */
final class FlowMatchEulerScheduler extends AbstractScheduler {
    private final int trainSteps;
    private final double shift;
    private final double sigmaMax;
    private final double sigmaMin;
    private final boolean dynamic;
    private final double baseShift;
    private final double maxShift;
    private final int baseSeqLen;
    private final int maxSeqLen;
    private final String timeShiftType;
    private final boolean linearQuadratic;
    /** FluxPipeline's sigmas {@code linspace(1, 1/n, n)} (what the dynamic path always uses). */
    private final boolean fluxSigmas;
    private final double thresholdNoise;

    FlowMatchEulerScheduler(SchedulerConfig config) {
        super("flowmatch");
        trainSteps = config.trainTimesteps();
        shift = config.positive("shift", 1.0);
        dynamic = config.flag("use_dynamic_shifting", false);
        baseShift = config.number("base_shift", 0.5);
        maxShift = config.number("max_shift", 1.15);
        baseSeqLen = config.integerAtLeast("base_image_seq_len", 256, 1);
        maxSeqLen = config.integerAtLeast("max_image_seq_len", 4096, 1);
        timeShiftType = config.choice("time_shift_type", "exponential", "exponential", "linear");
        String schedule = config.choice("sigma_schedule", "linear", "linear", "linear_quadratic", "flux");
        linearQuadratic = "linear_quadratic".equals(schedule);
        fluxSigmas = "flux".equals(schedule);
        thresholdNoise = config.number("threshold_noise", 0.025);
        if (linearQuadratic && !(thresholdNoise > 0 && thresholdNoise < 1)) {
            throw config.invalid("threshold_noise", thresholdNoise, "a number between 0 and 1 (exclusive)");
        }
        if (linearQuadratic && dynamic) {
            throw config.invalid("sigma_schedule", "linear_quadratic", "\"linear\" with use_dynamic_shifting true "
                    + "(the linear-quadratic sigmas are not shifted by resolution)");
        }
        if (!Double.isFinite(baseShift)) {
            throw config.invalid("base_shift", baseShift, "a finite number");
        }
        if (!Double.isFinite(maxShift)) {
            throw config.invalid("max_shift", maxShift, "a finite number");
        }
        if (dynamic && maxSeqLen == baseSeqLen) {
            throw config.invalid("max_image_seq_len", maxSeqLen, "a length other than base_image_seq_len "
                    + baseSeqLen + " (the shift is interpolated between them)");
        }
        if (config.flag("invert_sigmas", false)) {
            // genmo/mochi-1-preview's scheduler_config.json: MochiPipeline steps the reversed sigmas
            throw config.unsupported("invert_sigmas", true, "false (Mochi's inverted clock is handled by the model: "
                    + "sample it with sigma_schedule \"linear_quadratic\", MochiPipeline's sigmas, on the standard "
                    + "clock)");
        }
        for (String off : new String[] {"invert_sigmas", "use_karras_sigmas", "use_exponential_sigmas",
            "use_beta_sigmas", "stochastic_sampling"}) {
            config.requireOff(off);
        }
        config.requireAbsent("shift_terminal");
        // Training sigmas t / T for t = T..1, shifted in float32 tensor math (unshifted with dynamic shifting);
        // only their ends are used.
        sigmaMax = dynamic ? 1f : shiftedTrainSigma(trainSteps);
        sigmaMin = dynamic ? (float) 1 / trainSteps : shiftedTrainSigma(1);
    }

    private float shiftedTrainSigma(int t) {
        float s = (float) t / trainSteps;
        float k = (float) shift;
        return k * s / (1f + (float) (shift - 1) * s);
    }

    /**
     * The static schedule.
     *
     * @throws IllegalArgumentException with {@code use_dynamic_shifting}, whose schedule needs the image sequence
     *                                  length ({@link #setTimesteps(int, long)}), as diffusers refuses it without
     *                                  {@code mu}
     */
    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.checkPositive(numInferenceSteps, name());
        if (dynamic) {
            throw new IllegalArgumentException(name() + ": use_dynamic_shifting is true, so the schedule depends on "
                    + "the image sequence length: prepare it with setTimesteps(steps, imageSeqLen)");
        }
        if (linearQuadratic) {
            prepareLinearQuadratic(numInferenceSteps);
            return;
        }
        if (fluxSigmas) {
            prepareFlux(numInferenceSteps);
            return;
        }
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

    /**
     * FluxPipeline's sigmas with static shifting (FLUX.1-schnell): {@code linspace(1, 1/n, n)} in float64, cast to
     * float32 as the scheduler does with given sigmas, shifted in float32, ending with 0.
     */
    private void prepareFlux(int n) {
        double[] line = NumpyMath.linspace(1.0, 1.0 / n, n);
        double[] ts = new double[n];
        float[] s = new float[n + 1];
        float k = (float) shift;
        for (int i = 0; i < n; i++) {
            float sigma = (float) line[i];
            s[i] = k * sigma / (1f + (float) (shift - 1) * sigma);
            ts[i] = s[i] * (float) trainSteps;
        }
        prepare(ts, s);
    }

    /** MochiPipeline's sigmas (see the class comment), shifted in float32, ending with 0. */
    private void prepareLinearQuadratic(int n) {
        if (n < 2) {
            throw new IllegalArgumentException(name() + ": sigma_schedule \"linear_quadratic\" needs at least 2 "
                    + "steps (half of them linear), got " + n);
        }
        double[] u = linearQuadratic(n, thresholdNoise);
        double[] ts = new double[n];
        float[] s = new float[n + 1];
        float k = (float) shift;
        for (int i = 0; i < n; i++) {
            float sigma = (float) (1.0 - u[i]);
            s[i] = k * sigma / (1f + (float) (shift - 1) * sigma);
            ts[i] = s[i] * (float) trainSteps;
        }
        prepare(ts, s);
    }

    /**
     * diffusers' {@code linear_quadratic_schedule(n, threshold)} before its {@code 1 - x}: the noise levels
     * {@code u_0 = 0 < u_1 < ...}, float64.
     */
    static double[] linearQuadratic(int n, double threshold) {
        int linear = n / 2;
        double[] u = new double[n];
        for (int i = 0; i < linear; i++) {
            u[i] = i * threshold / linear;
        }
        double gap = linear - threshold * n;
        int quadratic = n - linear;
        double q = gap / (linear * Math.pow(quadratic, 2));
        double l = threshold / linear - 2 * gap / Math.pow(quadratic, 2);
        double c = q * Math.pow(linear, 2);
        for (int i = linear; i < n; i++) {
            u[i] = q * Math.pow(i, 2) + l * i + c;
        }
        return u;
    }

    /**
     * With {@code use_dynamic_shifting}, FluxPipeline's schedule for {@code imageSeqLen} image tokens (see the
     * class comment); otherwise the static schedule of {@link #setTimesteps(int)}, whatever the length.
     */
    @Override
    public void setTimesteps(int numInferenceSteps, long imageSeqLen) {
        TimestepSpacing.checkPositive(numInferenceSteps, name());
        if (imageSeqLen < 1) {
            throw new IllegalArgumentException(name() + ": image sequence length is " + imageSeqLen
                    + ", expected >= 1");
        }
        if (!dynamic) {
            setTimesteps(numInferenceSteps);
            return;
        }
        double mu = mu(imageSeqLen);
        double[] linear = NumpyMath.linspace(1.0, 1.0 / numInferenceSteps, numInferenceSteps);
        double[] ts = new double[numInferenceSteps];
        float[] s = new float[numInferenceSteps + 1];
        for (int i = 0; i < numInferenceSteps; i++) {
            s[i] = (float) timeShift(mu, linear[i]);
            ts[i] = s[i] * (float) trainSteps;
        }
        prepare(ts, s);
    }

    /** diffusers' {@code calculate_shift}: the line through the base and max (length, shift) points. */
    double mu(long imageSeqLen) {
        double m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
        double b = baseShift - m * baseSeqLen;
        return imageSeqLen * m + b;
    }

    private double timeShift(double mu, double sigma) {
        double tail = 1 / sigma - 1;
        return "linear".equals(timeShiftType) ? mu / (mu + tail) : Math.exp(mu) / (Math.exp(mu) + tail);
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
        if (linearQuadratic) {
            d.put("sigma_schedule", "linear_quadratic");
            d.put("threshold_noise", thresholdNoise);
        }
        if (dynamic) {
            d.put("use_dynamic_shifting", true);
            d.put("base_shift", baseShift);
            d.put("max_shift", maxShift);
            d.put("base_image_seq_len", baseSeqLen);
            d.put("max_image_seq_len", maxSeqLen);
            d.put("time_shift_type", timeShiftType);
        }
        return d;
    }
}
