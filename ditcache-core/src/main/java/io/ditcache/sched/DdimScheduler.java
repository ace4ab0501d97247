package io.ditcache.sched;

import static io.ditcache.sched.StepMath.clamp;
import static io.ditcache.sched.StepMath.over;
import static io.ditcache.sched.StepMath.sqrt;
import static io.ditcache.sched.StepMath.times;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Deterministic DDIM ({@code eta = 0}), as diffusers' {@code DDIMScheduler}.
 *
 * <p>Config (defaults): the {@link NoiseSchedule} keys, {@code prediction_type} ("epsilon", "v_prediction",
 * "sample"), {@code timestep_spacing} ("leading"), {@code steps_offset} (0), {@code clip_sample} (true),
 * {@code clip_sample_range} (1.0), {@code set_alpha_to_one} (true). {@code thresholding} is not supported.
 *
 * <p>As in diffusers, the previous timestep of {@code t} is {@code t - T // N} whatever the spacing, and
 * below 0 it uses {@code final_alpha_cumprod} (1, or {@code alphas_cumprod[0]} without set_alpha_to_one).
 */
final class DdimScheduler implements Scheduler {
    private final NoiseSchedule schedule;
    private final Prediction prediction;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private final boolean clipSample;
    private final double clipSampleRange;
    private final boolean setAlphaToOne;
    private final float finalAlphaCumprod;
    private int[] timesteps;

    DdimScheduler(SchedulerConfig config) {
        schedule = NoiseSchedule.read(config);
        prediction = Prediction.read(config);
        spacing = TimestepSpacing.read(config, TimestepSpacing.LEADING);
        stepsOffset = config.integerAtLeast("steps_offset", 0, 0);
        clipSample = config.flag("clip_sample", true);
        clipSampleRange = config.positive("clip_sample_range", 1.0);
        setAlphaToOne = config.flag("set_alpha_to_one", true);
        config.requireOff("thresholding");
        finalAlphaCumprod = setAlphaToOne ? 1f : schedule.alphasCumprod[0];
    }

    @Override
    public String name() {
        return "ddim";
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        timesteps = spacing.integerTimesteps(schedule.trainSteps, numInferenceSteps, stepsOffset, name());
    }

    @Override
    public double[] timesteps() {
        return Arrays.stream(prepared()).asDoubleStream().toArray();
    }

    @Override
    public double initNoiseSigma() {
        return 1.0;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, int stepIndex) {
        StepMath.checkIndex(name(), prepared().length, stepIndex);
        return StepMath.owned(() -> new Tensor(sample));
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        int[] ts = prepared();
        StepMath.checkIndex(name(), ts.length, stepIndex);
        StepMath.checkSameShape(modelOutput, "modelOutput", sample, "sample");
        int t = ts[stepIndex];
        int prevT = t - schedule.trainSteps / ts.length;
        float alphaProd = schedule.alphasCumprod[t];
        float alphaProdPrev = prevT >= 0 ? schedule.alphasCumprod[prevT] : finalAlphaCumprod;
        float betaProd = 1f - alphaProd;
        return StepMath.owned(() -> {
            Tensor x = StepMath.float32(sample);
            Tensor out = StepMath.float32(modelOutput);
            Tensor x0;
            Tensor eps;
            switch (prediction) {
                case EPSILON:
                    x0 = over(x.sub(times(out, sqrt(betaProd))), sqrt(alphaProd));
                    eps = out;
                    break;
                case SAMPLE:
                    x0 = out;
                    eps = over(x.sub(times(x0, sqrt(alphaProd))), sqrt(betaProd));
                    break;
                case V_PREDICTION:
                    x0 = times(x, sqrt(alphaProd)).sub(times(out, sqrt(betaProd)));
                    eps = times(out, sqrt(alphaProd)).add(times(x, sqrt(betaProd)));
                    break;
                default:
                    throw new AssertionError(prediction);
            }
            if (clipSample) {
                x0 = clamp(x0, clipSampleRange);
            }
            // eta = 0: std_dev_t = 0, so the direction is sqrt(1 - alpha_prev) * eps and no noise is added.
            Tensor direction = times(eps, sqrt(1f - alphaProdPrev));
            Tensor prev = times(x0, sqrt(alphaProdPrev)).add(direction);
            return StepMath.dtypeOf(prev, modelOutput);
        });
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name());
        d.put("_class_name", "DDIMScheduler");
        schedule.describeInto(d);
        d.put("prediction_type", prediction.key);
        d.put("timestep_spacing", spacing.key);
        d.put("steps_offset", stepsOffset);
        d.put("clip_sample", clipSample);
        d.put("clip_sample_range", clipSampleRange);
        d.put("set_alpha_to_one", setAlphaToOne);
        d.put("eta", 0.0);
        return d;
    }

    NoiseSchedule schedule() {
        return schedule;
    }

    float finalAlphaCumprod() {
        return finalAlphaCumprod;
    }

    private int[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException("ddim: call setTimesteps before using the scheduler");
        }
        return timesteps;
    }
}
