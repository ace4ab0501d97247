package io.ditcache.sched;

import static io.ditcache.sched.StepMath.sqrt;
import static io.ditcache.sched.StepMath.times;

import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Ancestral DDPM sampling, as diffusers' {@code DDPMScheduler}. Each step but the one at timestep 0 adds
 * {@code sqrt(variance) * noise}, with the noise taken from the {@code noise} supplier of {@link #step}.
 *
 * <p>Config (defaults): the {@link NoiseSchedule} keys, {@code prediction_type} ("epsilon", "v_prediction",
 * "sample"), {@code variance_type} ("fixed_small", "fixed_small_log", "fixed_large"), {@code clip_sample}
 * (true), {@code clip_sample_range} (1.0), {@code timestep_spacing} ("leading"), {@code steps_offset} (0).
 * Learned variances and {@code thresholding} are not supported.
 *
 * <p>The previous timestep of step {@code i} is {@code timesteps()[i + 1]}, or -1 (alpha 1) after the last.
 */
final class DdpmScheduler extends TrainTimestepScheduler {
    private final String varianceType;

    DdpmScheduler(SchedulerConfig config) {
        super("ddpm", config);
        varianceType = config.choice("variance_type", "fixed_small", "fixed_small", "fixed_small_log", "fixed_large");
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex, modelOutput, sample);
        int t = timestep(stepIndex);
        int prevT = timestep(stepIndex + 1);
        if (t > 0) {
            Objects.requireNonNull(noise, "ddpm: step at timestep " + t + " adds variance noise; pass a noise supplier");
        }
        float alphaProd = schedule.alphasCumprod[t];
        float alphaProdPrev = prevT >= 0 ? schedule.alphasCumprod[prevT] : 1f;
        float betaProd = 1f - alphaProd;
        float betaProdPrev = 1f - alphaProdPrev;
        float currentAlpha = alphaProd / alphaProdPrev;
        float currentBeta = 1f - currentAlpha;
        float x0Coeff = sqrt(alphaProdPrev) * currentBeta / betaProd;
        float sampleCoeff = sqrt(currentAlpha) * betaProdPrev / betaProd;
        return StepMath.owned(() -> {
            Tensor x = StepMath.float32(sample);
            Tensor out = StepMath.float32(modelOutput);
            Tensor x0 = clip(prediction.originalSample(out, x, sqrt(alphaProd), sqrt(betaProd)));
            Tensor prev = times(x0, x0Coeff).add(times(x, sampleCoeff));
            if (t > 0) {
                Tensor z = noise.get();
                StepMath.checkSameShape(z, "noise", sample, "sample");
                prev = prev.add(times(StepMath.float32(z), noiseScale(alphaProd, alphaProdPrev, currentBeta)));
            }
            return StepMath.dtypeOf(prev, modelOutput);
        });
    }

    /** The factor of the noise: diffusers' {@code _get_variance}, square-rooted where step() does so. */
    private float noiseScale(float alphaProd, float alphaProdPrev, float currentBeta) {
        float variance = (1f - alphaProdPrev) / (1f - alphaProd) * currentBeta;
        variance = Math.max(variance, 1e-20f);
        switch (varianceType) {
            case "fixed_small":
                return sqrt(variance);
            case "fixed_small_log":
                return StepMath.exp(0.5f * StepMath.log(variance));
            case "fixed_large":
                return sqrt(currentBeta);
            default:
                throw new AssertionError(varianceType);
        }
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("DDPMScheduler");
        schedule.describeInto(d);
        d.put("prediction_type", prediction.key);
        d.put("variance_type", varianceType);
        d.put("clip_sample", clipSample);
        d.put("clip_sample_range", clipSampleRange);
        d.put("timestep_spacing", spacing.key);
        d.put("steps_offset", stepsOffset);
        return d;
    }
}
