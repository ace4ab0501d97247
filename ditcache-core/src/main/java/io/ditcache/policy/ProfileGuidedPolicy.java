package io.ditcache.policy;

import io.ditcache.Approximation;
import io.ditcache.CachePolicy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Computes or reuses each block as a {@link ComputeMask} says: {@link Decision#COMPUTE} where the mask computes,
 * {@link Decision#REUSE_BLOCK} (the block's input plus its cached residual) elsewhere. The mask is static, the same for
 * both guidance branches and every sample, so the policy keeps no state and asks for no signals. Reused values
 * can be extrapolated instead of reused as they are ({@link #withApproximation}).
 *
 * <p>A run must have the mask's steps and the model its layers; plan a mask for each step count
 * ({@link MaskPlanner}).
 */
public final class ProfileGuidedPolicy implements CachePolicy {
    private final ComputeMask mask;
    private final Approximation approximation;

    /** Plain reuse of the cached residual. */
    public ProfileGuidedPolicy(ComputeMask mask) {
        this(mask, Approximation.REUSE);
    }

    public ProfileGuidedPolicy(ComputeMask mask, Approximation approximation) {
        this.mask = Objects.requireNonNull(mask, "mask");
        this.approximation = Objects.requireNonNull(approximation, "approximation");
    }

    /** The same mask with reused values approximated by {@code approximation}, e.g. {@code Approximation.taylor(1)}. */
    public ProfileGuidedPolicy withApproximation(Approximation approximation) {
        return new ProfileGuidedPolicy(mask, approximation);
    }

    public ComputeMask mask() {
        return mask;
    }

    @Override
    public Decision decide(Query query) {
        if (query.steps() != mask.steps() || query.layers() != mask.layers()) {
            throw new IllegalArgumentException("run of " + query.steps() + " steps x " + query.layers()
                    + " layers, but the mask (" + mask.source() + ") is for " + mask.steps() + " steps x "
                    + mask.layers() + " layers");
        }
        return mask.computes(query.step(), query.layer()) ? Decision.COMPUTE : Decision.REUSE_BLOCK;
    }

    @Override
    public String name() {
        return "profile-guided";
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name());
        if (mask.criterion() instanceof ComputeMask.Budget b) {
            d.put("budget", b.fraction());
        } else {
            d.put("target_error", ((ComputeMask.TargetError) mask.criterion()).maxError());
        }
        d.put("computed_fraction", mask.computedFraction());
        d.put("estimated_error", mask.estimatedError());
        d.put("steps", mask.steps());
        d.put("layers", mask.layers());
        d.put("source", mask.source());
        d.put("approximation", approximation.toString());
        return d;
    }

    @Override
    public Approximation approximation() {
        return approximation;
    }

    @Override
    public String toString() {
        return name() + describe();
    }
}
