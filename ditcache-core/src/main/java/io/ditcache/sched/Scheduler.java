package io.ditcache.sched;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * A diffusion sampler's time discretisation and update rule, numerically the same as the HuggingFace
 * diffusers scheduler it is named after (timesteps, sigmas / alphas_cumprod, and {@code step()}).
 *
 * <p>Use: {@link #setTimesteps(int)}, start from {@code randn * initNoiseSigma()}, then for each step
 * {@code i}: call the model on {@code scaleModelInput(sample, i)} with timestep {@code timesteps()[i]},
 * and {@code sample = step(output, i, sample, noise)}.
 *
 * <p><b>Native memory.</b> {@link #scaleModelInput} and {@link #step} release every intermediate tensor
 * before they return (they run inside their own {@link org.bytedeco.javacpp.PointerScope}). The tensor they
 * return is new and belongs to the caller: it is attached to the caller's innermost {@code PointerScope}
 * if there is one (call {@code retainReference()} on it to keep it past that scope), otherwise the caller
 * closes it (or leaves it to the garbage collector). Inputs are never modified or released.
 *
 * <p>Math runs in float32, as diffusers does; the result has {@code modelOutput}'s dtype. Instances are
 * not thread-safe.
 */
public interface Scheduler {

    /**
     * Short name: {@code "ddim"}, {@code "ddpm"}, {@code "dpm++"}, {@code "euler"}, {@code "flowmatch"} or
     * {@code "rflow"}.
     */
    String name();

    /**
     * Prepares {@code numInferenceSteps} steps and resets all multistep state.
     *
     * @throws IllegalArgumentException if the count is not positive or not supported by the configuration
     */
    void setTimesteps(int numInferenceSteps);

    /**
     * Prepares {@code numInferenceSteps} steps for samples of {@code imageSequenceLength} image tokens: schedules
     * that shift with the resolution (FLUX's dynamic shifting) use the length; the others ignore it.
     *
     * @throws IllegalArgumentException as {@link #setTimesteps(int)}, or for a length {@code < 1}
     */
    default void setTimesteps(int numInferenceSteps, long imageSequenceLength) {
        if (imageSequenceLength < 1) {
            throw new IllegalArgumentException("image sequence length is " + imageSequenceLength + ", expected >= 1");
        }
        setTimesteps(numInferenceSteps);
    }

    /**
     * The timesteps of the prepared steps, in order (a copy). DDIM, DDPM and DPM-Solver++ timesteps are
     * integers; Euler's and FlowMatch's are float32 values ({@code sigma * num_train_timesteps} for
     * FlowMatch). {@code timesteps()[i]} is the value to pass to the model as its {@code timestep} at
     * step {@code i}.
     *
     * @throws IllegalStateException before {@link #setTimesteps(int)}
     */
    double[] timesteps();

    /**
     * Standard deviation of the initial noise: {@code sample_0 = randn * initNoiseSigma()}.
     *
     * @throws IllegalStateException before {@link #setTimesteps(int)} where the value depends on it (Euler)
     */
    double initNoiseSigma();

    /**
     * The model input at step {@code stepIndex}: {@code sample} scaled as the scheduler needs (Euler divides
     * by {@code sqrt(sigma^2 + 1)}); schedulers that do not scale return a new handle sharing
     * {@code sample}'s storage.
     */
    Tensor scaleModelInput(Tensor sample, int stepIndex);

    /**
     * One denoising step from {@code sample} at step {@code stepIndex} to the next sample.
     *
     * @param modelOutput the model's prediction for {@code scaleModelInput(sample, stepIndex)}
     * @param stepIndex   index into {@link #timesteps()}; multistep schedulers (DPM-Solver++) require the
     *                    steps in order {@code 0, 1, ...} after {@link #setTimesteps(int)}
     * @param sample      the current sample
     * @param noise       supplies variance noise shaped like {@code sample}; only DDPM calls it (not at
     *                    timestep 0), the others accept {@code null}
     * @return prev_sample, a new tensor
     */
    Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise);

    /** Name and effective configuration (diffusers key names, plain JSON-friendly values), for profile files. */
    Map<String, Object> describe();
}
