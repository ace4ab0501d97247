package io.ditcache.sched;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What the schedulers share: the short name, the steps {@link #setTimesteps} prepares (timesteps and, where
 * the scheduler has them, sigmas), the checks of a step's arguments, and by default an initial noise sigma
 * of 1 and no input scaling.
 */
abstract class AbstractScheduler implements Scheduler {
    private final String name;
    private double[] timesteps;
    /** One more than the timesteps (the last is the final sigma), or null where the scheduler has none. */
    private float[] sigmas;

    AbstractScheduler(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final double[] timesteps() {
        return prepared().clone();
    }

    @Override
    public double initNoiseSigma() {
        return 1.0;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, int stepIndex) {
        checkStep(stepIndex);
        return StepMath.owned(() -> new Tensor(sample));
    }

    /** Installs the steps {@link #setTimesteps} computed; {@code sigmas} may be null. */
    final void prepare(double[] timesteps, float[] sigmas) {
        this.timesteps = timesteps;
        this.sigmas = sigmas;
    }

    /** The prepared timesteps, not a copy. */
    final double[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException(name + ": call setTimesteps before using the scheduler");
        }
        return timesteps;
    }

    /** The sigma at step {@code i}; {@code i} = the number of steps gives the final sigma. */
    final float sigma(int i) {
        prepared();
        return sigmas[i];
    }

    /** A copy of the prepared sigmas, or null for a scheduler without them. */
    final float[] sigmas() {
        prepared();
        return sigmas == null ? null : sigmas.clone();
    }

    final void checkStep(int stepIndex) {
        StepMath.checkIndex(name, prepared().length, stepIndex);
    }

    final void checkStep(int stepIndex, Tensor modelOutput, Tensor sample) {
        checkStep(stepIndex);
        StepMath.checkSameShape(modelOutput, "modelOutput", sample, "sample");
    }

    /** The start of {@link #describe()}: the short name and diffusers' class name. */
    final Map<String, Object> describeHead(String className) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        d.put("_class_name", className);
        return d;
    }
}
