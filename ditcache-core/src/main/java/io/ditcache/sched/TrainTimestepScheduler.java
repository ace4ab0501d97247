package io.ditcache.sched;

import static io.ditcache.sched.StepMath.clamp;

import org.bytedeco.pytorch.Tensor;

/**
 * DDIM and DDPM: integer timesteps placed on the training schedule by {@code timestep_spacing} (default
 * "leading"), and an x0 prediction clipped to {@code [-clip_sample_range, clip_sample_range]} when
 * {@code clip_sample}. Reads the config keys the two share; {@code thresholding} is not supported.
 */
abstract class TrainTimestepScheduler extends AbstractScheduler {
    final NoiseSchedule schedule;
    final Prediction prediction;
    final TimestepSpacing spacing;
    final int stepsOffset;
    final boolean clipSample;
    final double clipSampleRange;

    TrainTimestepScheduler(String name, SchedulerConfig config) {
        super(name);
        schedule = NoiseSchedule.read(config);
        prediction = Prediction.read(config);
        spacing = TimestepSpacing.read(config, TimestepSpacing.LEADING);
        stepsOffset = config.integerAtLeast("steps_offset", 0, 0);
        clipSample = config.flag("clip_sample", true);
        clipSampleRange = config.positive("clip_sample_range", 1.0);
        config.requireOff("thresholding");
    }

    @Override
    public final void setTimesteps(int numInferenceSteps) {
        prepare(spacing.integerTimesteps(schedule.trainSteps, numInferenceSteps, stepsOffset, name()), null);
    }

    /** The training timestep of step {@code i}, or -1 after the last step. */
    final int timestep(int i) {
        double[] ts = prepared();
        return i < ts.length ? (int) ts[i] : -1;
    }

    /** {@code x0} clipped as configured. */
    final Tensor clip(Tensor x0) {
        return clipSample ? clamp(x0, clipSampleRange) : x0;
    }

    final NoiseSchedule schedule() {
        return schedule;
    }
}
