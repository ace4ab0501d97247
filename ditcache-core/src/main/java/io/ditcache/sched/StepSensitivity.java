package io.ditcache.sched;

import io.ditcache.internal.Tensors;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * How much the final sample moves per unit of model output at each step of a sampling run, the other steps' outputs
 * held fixed: the weight a planner gives an error made at that step. It is measured on a one-element sample that
 * starts at 0, whose model outputs are 0 except a unit output at step {@code i}: at the last steps of a DDIM run an
 * output error barely moves the sample, at the first ones it moves it most.
 *
 * <p>The unit response goes through the scheduler as it is, clipping included: DDIM and DDPM with
 * {@code clip_sample} (their default) clamp the predicted clean sample to [-1, 1], which caps the weights of the
 * early steps. On 50 DDIM steps they are 1.53 on the first 29 steps, then fall to about 0.1; the unclipped
 * derivative would give 8.9 on the first step, falling to 0.02. The cap is kept on purpose: a trained model corrects
 * much of an early error that the outputs-held-fixed derivative charges in full. Measured on the embedded default
 * ({@code bench --steps 50 --samples 20 --policies profile-guided}, median per-sample PSNR at budget 0.5): 37.7 dB
 * with these weights, 30.1 dB with the unclipped derivative, 35.2 dB unweighted
 * ({@code bench/results/2026-12-01-step-weights/}).
 */
public final class StepSensitivity {
    private StepSensitivity() {
    }

    /**
     * Per step, {@code |d final sample / d model output at step i|}, scaled to mean 1 (all 1 where nothing moves).
     *
     * @param schedulers makes a fresh scheduler per run
     * @param steps      steps of the run, >= 1
     * @param imageTokens the image sequence length a scheduler may shift its timesteps by (as the sampler passes it),
     *                    >= 1
     */
    public static double[] of(Supplier<Scheduler> schedulers, int steps, long imageTokens) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps " + steps + ": expected >= 1");
        }
        try (PointerScope scope = new PointerScope()) {
            double base = finalSample(schedulers, steps, imageTokens, -1);
            double[] out = new double[steps];
            double sum = 0;
            for (int i = 0; i < steps; i++) {
                out[i] = Math.abs(finalSample(schedulers, steps, imageTokens, i) - base);
                sum += out[i];
            }
            for (int i = 0; i < steps; i++) {
                out[i] = sum > 0 && Double.isFinite(sum) ? out[i] * steps / sum : 1;
            }
            return out;
        }
    }

    /** The final sample of a run from 0 whose model outputs are 0, except 1 at step {@code unit}. */
    private static double finalSample(Supplier<Scheduler> schedulers, int steps, long imageTokens, int unit) {
        Scheduler s = schedulers.get();
        s.setTimesteps(steps, imageTokens);
        Tensor x = Tensors.fromFloats(new float[] {0f}, 1, 1, 1, 1);
        for (int i = 0; i < steps; i++) {
            Tensor out = Tensors.fromFloats(new float[] {i == unit ? 1f : 0f}, 1, 1, 1, 1);
            x = s.step(out, i, x, () -> Tensors.fromFloats(new float[] {0f}, 1, 1, 1, 1));
        }
        return Tensors.toFloats(x)[0];
    }
}
