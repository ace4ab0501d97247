package io.ditcache.sched;

import static io.ditcache.sched.StepMath.sqrt;
import static io.ditcache.sched.StepMath.times;

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
final class DdimScheduler extends TrainTimestepScheduler {
    private final boolean setAlphaToOne;
    private final float finalAlphaCumprod;

    DdimScheduler(SchedulerConfig config) {
        super("ddim", config);
        setAlphaToOne = config.flag("set_alpha_to_one", true);
        finalAlphaCumprod = setAlphaToOne ? 1f : schedule.alphasCumprod[0];
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex, modelOutput, sample);
        int t = timestep(stepIndex);
        int prevT = t - schedule.trainSteps / prepared().length;
        float alphaProd = schedule.alphasCumprod[t];
        float alphaProdPrev = prevT >= 0 ? schedule.alphasCumprod[prevT] : finalAlphaCumprod;
        float betaProd = 1f - alphaProd;
        return StepMath.owned(() -> {
            Tensor x = StepMath.float32(sample);
            Tensor out = StepMath.float32(modelOutput);
            Tensor x0 = prediction.originalSample(out, x, sqrt(alphaProd), sqrt(betaProd));
            Tensor eps = prediction.noise(out, x, x0, sqrt(alphaProd), sqrt(betaProd));
            x0 = clip(x0);
            // eta = 0: std_dev_t = 0, so the direction is sqrt(1 - alpha_prev) * eps and no noise is added.
            Tensor direction = times(eps, sqrt(1f - alphaProdPrev));
            Tensor prev = times(x0, sqrt(alphaProdPrev)).add(direction);
            return StepMath.dtypeOf(prev, modelOutput);
        });
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("DDIMScheduler");
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

    float finalAlphaCumprod() {
        return finalAlphaCumprod;
    }
}
