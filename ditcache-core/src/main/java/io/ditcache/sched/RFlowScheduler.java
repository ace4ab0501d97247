package io.ditcache.sched;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * Open-Sora 1.2's rectified-flow sampler ({@code RFLOW} in hpcaitech/Open-Sora {@code opensora/schedulers/rf},
 * commit 8d132d7a84a0fd1966bc4a83a7628d409f453e37). Timesteps {@code t_i = (1 - i / n) * T} for
 * {@code i = 0..n-1}, with {@code use_timestep_transform} each mapped to
 * {@code T * r s / (1 + (r - 1) s)} ({@code s = t_i / T}), and the Euler step
 * {@code x <- x + (sigma_{i+1} - sigma_i) * v} with {@code sigma_i = t_i / T} and a final sigma 0, {@code v}
 * being ditcache's {@link io.ditcache.model.PredictionType#FLOW} velocity {@code noise - x0}. (Open-Sora's network
 * predicts {@code x0 - noise} and steps {@code z + v * (t_i - t_{i+1}) / T}: the same update; its family negates
 * the output.) No input scaling, initial noise sigma 1.
 *
 * <p><b>The transform's ratio.</b> Open-Sora uses
 * {@code r = sqrt(height * width / 512^2) * sqrt(frames) * transform_scale}, from the video's pixel size and
 * latent frame count ({@code num_frames // 17 * 5}, 1 for one frame). Here it comes from the image sequence length
 * the denoiser gives ({@link #setTimesteps(int, long)}): {@code r = sqrt(len / base_image_seq_len) *
 * transform_scale}, the denoiser's sampling defaults setting {@code base_image_seq_len} to the token count of one
 * 512 x 512 frame (1024 for STDiT3-XL/2: 64 x 64 latents in 2 x 2 patches), which gives Open-Sora's ratio.
 * {@link #setTimesteps(int)} alone uses {@code r = transform_scale} (no resolution dependence).
 *
 * <p>Config (defaults): {@code num_train_timesteps} (1000, Open-Sora's {@code num_timesteps}),
 * {@code use_timestep_transform} (false, as Open-Sora's class; its 1.2 sample config sets true),
 * {@code transform_scale} (1.0), {@code base_image_seq_len} (1024), {@code use_discrete_timesteps} (false; true
 * rounds the untransformed timesteps to integers).
 */
final class RFlowScheduler extends AbstractScheduler {
    private final int trainSteps;
    private final boolean transform;
    private final double transformScale;
    private final double baseSeqLen;
    private final boolean discrete;

    RFlowScheduler(SchedulerConfig config) {
        super("rflow");
        trainSteps = config.trainTimesteps();
        transform = config.flag("use_timestep_transform", false);
        transformScale = config.positive("transform_scale", 1.0);
        baseSeqLen = config.positive("base_image_seq_len", 1024);
        discrete = config.flag("use_discrete_timesteps", false);
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        schedule(numInferenceSteps, transformScale);
    }

    @Override
    public void setTimesteps(int numInferenceSteps, long imageSeqLen) {
        if (imageSeqLen < 1) {
            throw new IllegalArgumentException(name() + ": image sequence length is " + imageSeqLen
                    + ", expected >= 1");
        }
        schedule(numInferenceSteps, Math.sqrt(imageSeqLen / baseSeqLen) * transformScale);
    }

    /** The ratio-{@code r} transform of a timestep in {@code [0, T]}, as Open-Sora's {@code timestep_transform}. */
    double transform(double t, double ratio) {
        double s = t / trainSteps;
        return ratio * s / (1 + (ratio - 1) * s) * trainSteps;
    }

    private void schedule(int n, double ratio) {
        TimestepSpacing.checkPositive(n, name());
        double[] ts = new double[n];
        float[] sigmas = new float[n + 1];
        for (int i = 0; i < n; i++) {
            double t = (1.0 - (double) i / n) * trainSteps;
            if (discrete) {
                t = Math.rint(t);
            }
            // Open-Sora holds the timesteps in float32 tensors
            float f = (float) (transform ? transform((float) t, ratio) : (float) t);
            ts[i] = f;
            sigmas[i] = f / trainSteps;
        }
        sigmas[n] = 0f;
        prepare(ts, sigmas);
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex, modelOutput, sample);
        float dt = sigma(stepIndex + 1) - sigma(stepIndex);
        return StepMath.owned(() -> StepMath.dtypeOf(
                StepMath.float32(sample).add(StepMath.float32(modelOutput).mul(new org.bytedeco.pytorch.Scalar(dt))),
                modelOutput));
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("RFLOW");
        d.put("num_train_timesteps", trainSteps);
        d.put("use_timestep_transform", transform);
        d.put("transform_scale", transformScale);
        d.put("base_image_seq_len", baseSeqLen);
        d.put("use_discrete_timesteps", discrete);
        return d;
    }
}
