package io.ditcache.policy;

import io.ditcache.Approximation;
import io.ditcache.Block;
import io.ditcache.BlockPart;
import io.ditcache.CachePolicy;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Computes or reuses each block as a {@link ComputeMask} says: {@link Decision#COMPUTE} where the mask computes,
 * {@link Decision#REUSE_BLOCK} (the block's input plus its cached residual) where it reuses the block, and the
 * mask's other {@link CellDecision}s as they map onto the block ({@link CellDecision#on}). It declares only the
 * decisions its mask uses ({@link #decisions(Block)}), so the runtime keeps no slots for the others. The mask is
 * static, the same for both guidance branches and every sample, so the policy keeps no state and asks for no
 * signals. Reused values can be extrapolated instead of reused as they are ({@link #withApproximation}); the mask's
 * forecast cells forecast with Taylor order 1 whatever the approximation.
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
        return mask.decision(query.step(), query.layer()).on(query.block());
    }

    /** The decisions the mask uses, on any block: the runtime keeps slots only for them. */
    @Override
    public Set<Decision> decisions() {
        Set<Decision> out = new LinkedHashSet<>();
        out.add(Decision.COMPUTE);
        for (int l = 0; l < mask.layers(); l++) {
            out.addAll(column(l, mask.layerParts().isPresent() ? mask.layerParts().get().get(l)
                    : EnumSet.allOf(BlockPart.class)));
        }
        return out;
    }

    /** The decisions the mask uses at {@code block}'s layer (all of them where the mask has fewer layers). */
    @Override
    public Set<Decision> decisions(Block block) {
        if (block.index() >= mask.layers()) {
            return decisions();
        }
        Set<Decision> out = new LinkedHashSet<>();
        out.add(Decision.COMPUTE);
        out.addAll(column(block.index(), block.parts()));
        return out;
    }

    private Set<Decision> column(int layer, Set<BlockPart> parts) {
        Set<Decision> out = new LinkedHashSet<>();
        for (int t = 0; t < mask.steps(); t++) {
            CellDecision d = mask.decision(t, layer);
            out.add(switch (d) {
                case COMPUTE -> Decision.COMPUTE;
                case REUSE_BLOCK -> Decision.REUSE_BLOCK;
                case FORECAST_BLOCK -> Decision.forecastBlock(1);
                default -> Decision.reuse(d.reused(parts));
            });
        }
        return out;
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
        if (mask.hasDecisions()) {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (int t = 0; t < mask.steps(); t++) {
                for (int l = 0; l < mask.layers(); l++) {
                    counts.merge(mask.decision(t, l).name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
                }
            }
            d.put("decisions", counts);
        }
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
