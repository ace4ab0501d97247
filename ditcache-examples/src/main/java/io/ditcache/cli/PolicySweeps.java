package io.ditcache.cli;

import io.ditcache.BlockLayout;
import io.ditcache.CachePolicy;
import io.ditcache.RedundancyProfile;
import io.ditcache.bench.ShootoutCase;
import io.ditcache.policy.AlignedPlanner;
import io.ditcache.policy.CellDecision;
import io.ditcache.policy.CellErrorModel;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.DecisionPlanner;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.Policies;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.policy.SegmentErrors;
import io.ditcache.policy.SegmentPlanner;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The parameter sweep of each policy in {@code bench}: from settings close to "compute everything" to
 * aggressive ones, so that each policy traces a curve of speed against fidelity.
 */
final class PolicySweeps {
    /** Name of the profile-guided family in sweeps. */
    static final String GUIDED = "profile-guided";

    private PolicySweeps() {
    }

    /** The whole-block-only planner of earlier releases (compute or reuse each block), known but not default. */
    static final String GUIDED_BLOCK = GUIDED + "-block";
    /**
     * How long the bench's per-cell planner may reuse a value. Measured on the default model (10 DDIM steps, 20
     * samples, step-weighted errors): 3 steps gave a median per-sample PSNR of 23.0 dB at 60 % skipped and 20.1 dB
     * at 65 %, against 20.1 and 18.5 dB with the planner's default of 10 (the model charges long reuse too little).
     */
    static final int MAX_STALENESS = 3;
    /** The per-cell planner restricted to part reuse (FORA's decisions, planned), known but not default. */
    static final String GUIDED_PARTS = GUIDED + "-parts";
    /** The budgets of the planners' sweeps (the share of steps, or of block compute, that computes). */
    private static final double[] BUDGETS = {0.7, 0.5, 0.4, 0.33, 0.25};

    /**
     * Every policy family the shootout runs by default, in table order. {@code profile-guided} plans each cell's
     * decision (compute, reuse attention and/or feed-forward, reuse or forecast the block: {@link DecisionPlanner});
     * {@code profile-guided+taylor1} forecasts every reused value to first order and plans which steps compute, every
     * block alike ({@link AlignedPlanner}), charging each forecast by how far it reaches past the last two computed
     * steps, errors unweighted by step. Measured on the default model (50 DDIM steps, 20 samples): per-block plans
     * of that model reached a median per-sample PSNR of 48.5 dB at 46 % skipped, aligned ones 51.1 dB; weighting
     * the errors by {@link io.ditcache.sched.StepSensitivity} (which puts the reuse into the last steps) 45.9 dB.
     * {@code profile-guided+taylor2}, {@value #GUIDED_BLOCK} (whole-block reuse only, {@link MaskPlanner}) and
     * {@value #GUIDED_PARTS} (part reuse only) are known but not in the default list (the second: on the irregular
     * spacing of a mask, second-order forecasts measured worse than first-order ones, 50 DDIM steps, default model:
     * 25 dB against 39 dB at a budget of 0.4).
     */
    static List<String> names() {
        List<String> out = new ArrayList<>(Policies.names().stream().filter(n -> !n.equals(Policies.NONE)).toList());
        out.add(GUIDED);
        out.add(GUIDED + "+taylor1");
        return out;
    }

    /**
     * LeMiCa (NeurIPS 2025): step-aligned plans over the measured error of caching each segment of steps
     * ({@link SegmentPlanner}), plain reuse; {@code lemica+taylor1} calibrates and runs first-order forecasts
     * instead. Known but not default: each calibration runs one sampling run per candidate segment
     * ({@link io.ditcache.bench.SegmentCalibration}), minutes where the profile takes one run.
     */
    static final String LEMICA = "lemica";
    /** The longest segment LeMiCa's calibration measures: budget 0.25 of 50 steps computes 12, segments of 5 reach. */
    static final int LEMICA_MAX_SEGMENT = 5;
    /** Conditions of LeMiCa's calibration runs (it calibrates on a few prompts). */
    static final int LEMICA_CONDITIONS = 4;

    /** The default families and those only run on request. */
    static List<String> known() {
        List<String> out = new ArrayList<>(names());
        out.add(GUIDED + "+taylor2");
        out.add(GUIDED_BLOCK);
        out.add(GUIDED_PARTS);
        out.add(LEMICA);
        out.add(LEMICA + "+taylor1");
        return out;
    }

    /** Whether {@code family} is one of LeMiCa's, planned over measured segment errors. */
    static boolean lemica(String family) {
        return family.equals(LEMICA) || family.equals(LEMICA + "+taylor1");
    }

    /** How a family's reused values are used: Taylor 1 for the {@code +taylor1} families, else plain reuse. */
    static io.ditcache.Approximation approximation(String family) {
        return family.endsWith("+taylor1") ? io.ditcache.Approximation.taylor(1)
                : family.endsWith("+taylor2") ? io.ditcache.Approximation.taylor(2) : io.ditcache.Approximation.REUSE;
    }

    /** LeMiCa's longest segment for a run of {@code steps}. */
    static int lemicaMaxSegment(int steps) {
        return Math.min(LEMICA_MAX_SEGMENT, steps);
    }

    /**
     * The cases of {@code family}.
     *
     * @param profile calibration profile (same steps as the run) for TeaCache, MagCache and profile-guided
     * @param layout  the model's blocks (their parts and costs), for the profile-guided planners
     * @param weights per step, how much an error there counts for the per-cell planner
     *                ({@link io.ditcache.sched.StepSensitivity}), or null for all alike
     * @param segments the family's measured segment errors (same steps, calibrated with its approximation), or
     *                 null where {@code family} is not one of {@linkplain #lemica LeMiCa's}
     */
    static List<ShootoutCase> cases(String family, RedundancyProfile profile, int steps, BlockLayout layout,
            double[] weights, SegmentErrors segments) {
        if (lemica(family)) {
            if (segments == null || segments.steps() != steps) {
                throw new IllegalArgumentException(family + " needs segment errors measured at " + steps + " steps");
            }
            SegmentPlanner planner = new SegmentPlanner(segments);
            List<ShootoutCase> out = new ArrayList<>();
            for (double budget : BUDGETS) {
                if (!planner.allows(budget)) {
                    continue; // fewer computes than segments of the longest measured length can span
                }
                ComputeMask mask = planner.planForBudget(budget, layout.size());
                CachePolicy policy = new ProfileGuidedPolicy(mask, approximation(family));
                out.add(new ShootoutCase(family, "budget=" + budget, () -> policy));
            }
            return out;
        }
        List<Map<String, Object>> sweep = switch (family) {
            case "fora" -> each("interval", 2, 3);
            case "delta-dit" -> each("interval", 2, 3).stream().map(m -> with(m, "firstBlock", 1)).toList();
            case "pab" -> each("interval", 2, 3, 4);
            case "fbcache" -> each("threshold", 0.05, 0.1, 0.2, 0.3);
            case "dbcache" -> each("threshold", 0.1, 0.2, 0.3).stream().map(m -> with(with(with(with(m,
                    "firstBlocks", 1), "lastBlocks", 1), "warmupSteps", 2), "maxContinuousCachedSteps", 3)).toList();
            case "teacache" -> each("threshold", 0.1, 0.2, 0.4, 0.8);
            case "magcache" -> each("threshold", 0.02, 0.05, 0.1, 0.2).stream().map(m -> with(m, "maxSkips", 3))
                    .toList();
            case "taylorseer" -> each("interval", 2, 3, 4);
            case GUIDED, GUIDED + "+taylor1", GUIDED + "+taylor2", GUIDED_BLOCK, GUIDED_PARTS -> each("budget",
                    java.util.Arrays.stream(BUDGETS).boxed().toArray());
            default -> throw new IllegalArgumentException("unknown policy '" + family + "'; expected one of "
                    + names());
        };
        List<ShootoutCase> out = new ArrayList<>();
        for (Map<String, Object> params : sweep) {
            String text = params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(" "));
            out.add(new ShootoutCase(family, text, factory(family, params, profile, steps, layout, weights)));
        }
        return out;
    }

    private static java.util.function.Supplier<CachePolicy> factory(String family, Map<String, Object> params,
            RedundancyProfile profile, int steps, BlockLayout layout, double[] weights) {
        if (family.startsWith(GUIDED)) {
            double budget = ((Number) params.get("budget")).doubleValue();
            CellErrorModel errors = CellErrorModel.fromProfile(profile, steps);
            ComputeMask mask;
            if (family.equals(GUIDED + "+taylor1")) {
                // every block alike at each step, every reuse a forecast, errors unweighted by step (see names)
                mask = new AlignedPlanner(errors.withForecastedReuse(), layout, EnumSet.allOf(CellDecision.class),
                        staleness(steps, budget)).planForBudget(budget);
            } else if (family.equals(GUIDED_BLOCK)) {
                mask = MaskPlanner.forBudget(profile, layout, steps, budget);
            } else {
                mask = new DecisionPlanner(weights == null ? errors : errors.withStepWeights(weights), layout,
                        family.equals(GUIDED_PARTS) ? EnumSet.of(CellDecision.REUSE_ATTENTION,
                                CellDecision.REUSE_FEED_FORWARD, CellDecision.REUSE_PARTS)
                                : EnumSet.allOf(CellDecision.class), staleness(steps, budget)).planForBudget(budget);
            }
            CachePolicy policy = new ProfileGuidedPolicy(mask, approximation(family));
            return () -> policy;
        }
        CachePolicy check = Policies.create(family, params, profile); // fails now, not mid-run, on a bad setting
        return () -> Policies.create(check.describe());
    }

    /**
     * {@link #MAX_STALENESS}, or more where a run so short needs longer reuse to meet {@code budget} (a block
     * computed every {@code s + 1} steps computes {@code ceil(steps / (s + 1))} of them).
     */
    static int staleness(int steps, double budget) {
        int s = MAX_STALENESS;
        while (s < steps - 1 && Math.ceil(steps / (s + 1.0)) / steps > budget) {
            s++;
        }
        return s;
    }

    private static List<Map<String, Object>> each(String key, Object... values) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object v : values) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(key, v);
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> with(Map<String, Object> m, String key, Object value) {
        Map<String, Object> out = new LinkedHashMap<>(m);
        out.put(key, value);
        return out;
    }
}
