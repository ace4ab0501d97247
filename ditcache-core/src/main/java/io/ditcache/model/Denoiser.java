package io.ditcache.model;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A diffusion model's denoising network as sampling, profiling, studies and the shootout see it: whatever the
 * family (DiT, PixArt, SD3, FLUX, video models) or stack, one forward per step from latents, timesteps and a
 * {@link Conditioning} to the prediction the scheduler steps with. Families are found by
 * {@link ModelLoader} through {@link DenoiserFamily}.
 *
 * <p>Implementations call the {@link ActivationProbe} at their sites (see {@link io.ditcache.Site}); they are not
 * thread-safe (one forward at a time), and callers own the native memory of inputs and outputs (wrap calls in a
 * {@code PointerScope}).
 */
public interface Denoiser {
    /** What the model is: family, configuration, size, prediction type. */
    DenoiserInfo info();

    /** Blocks (transformer layers) in execution order: the layer axis of profiles, masks and cache decisions. */
    int layers();

    /**
     * The weights by name in the family's key order (diffusers' keys), the model's own tensors (not copies): a
     * model's fingerprint and what a checkpoint holds.
     */
    Map<String, Tensor> stateDict();

    /**
     * The latent shape of one sample of {@code c} (without the batch dimension), e.g. {@code [C, H, W]} for an
     * image, {@code [C, F, H, W]} for a video.
     *
     * @throws IllegalArgumentException if this model cannot be conditioned on {@code c}: a kind it does not take,
     *                                  a class label it does not know, a latent size it cannot make; the message
     *                                  names the value
     */
    long[] latentShape(Conditioning c);

    /**
     * The conditioning classifier-free guidance's unconditional branch uses for the rows of {@code c}: the null
     * class for a class-conditional model, the empty prompt's embeddings for a text model. Same rows and size as
     * {@code c}.
     *
     * @throws IllegalArgumentException as {@link #latentShape}
     */
    Conditioning unconditional(Conditioning c);

    /**
     * One forward pass.
     *
     * @param latents   {@code [N, ...latentShape]}, a float dtype
     * @param timesteps {@code [N]} or {@code [1]} (broadcast): the scheduler's timesteps (or sigmas, for flow
     *                  models, as the family's scheduler gives them)
     * @param batch     {@code N} rows of conditioning
     * @param step      the call's step and the branch of each row (passed to the probe)
     * @param probe     receives the activations
     * @return {@code [N, ...latentShape]} float32: the prediction in the scheduler's terms ({@link
     *         DenoiserInfo#prediction()}), learned variance channels already dropped
     */
    Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe);

    /**
     * A cached sampling run: each of its forwards computes or reuses the model's blocks as {@code policy}
     * decides for each row. Whatever the policy answers, the first step computes everything, and a policy that
     * never reuses gives bit for bit the results of {@link #forward}.
     *
     * @param policy decides; reset by the run
     * @param stats  receives what was applied
     * @param steps  forwards in the run
     * @param rows   the branch of each batch row, as {@link Step#rows()}
     * @throws UnsupportedOperationException if this model has no cache points (the message names its class)
     */
    CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows);

    /** How the family's published pipeline samples it (scheduler, steps, guidance and how guidance applies). */
    default SamplingDefaults samplingDefaults() {
        return SamplingDefaults.DIT;
    }

    /**
     * Scheduler settings the family's published pipeline imposes whatever a checkpoint's own
     * {@code scheduler_config.json} says (Mochi: the pipeline passes its linear-quadratic sigmas, and this port
     * runs the model on the standard clock, so the file's {@code invert_sigmas} does not apply). Laid over that
     * file's keys; none by default.
     */
    default java.util.Map<String, Object> pipelineSchedulerKeys() {
        return java.util.Map.of();
    }

    /**
     * The length of the image token sequence the transformer runs for one sample of {@code latentShape} (after
     * patching): what a resolution-dependent schedule shift (FLUX's {@code mu}) is computed from. The default
     * is the number of latent positions, {@code latentShape} without its channel dimension.
     */
    default long imageTokens(long[] latentShape) {
        long n = 1;
        for (int i = 1; i < latentShape.length; i++) {
            n = Math.multiplyExact(n, latentShape[i]);
        }
        return n;
    }
}
