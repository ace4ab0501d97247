package io.ditcache.policy;

import io.ditcache.Approximation;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.RedundancyProfile;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Creates cache policies by name from JSON-friendly parameters: the maps {@link CachePolicy#describe()} returns,
 * so {@code create(p.describe())} recreates {@code p}. Names: {@value #NONE}, {@value IntervalPolicy#NAME},
 * {@value BlockRangePolicy#NAME}, {@value PyramidAttentionPolicy#NAME}, {@value FirstBlockResidualPolicy#NAME},
 * {@value DualBlockPolicy#NAME}, {@value TeaCachePolicy#NAME}, {@value MagCachePolicy#NAME},
 * {@value TaylorSeerPolicy#NAME}, each optionally followed by {@code +taylor1}, {@code +taylor2} or
 * {@code +reuse} ({@link ApproximatedPolicy}). Parameter names, ranges and defaults are those of each policy's
 * constructor.
 */
public final class Policies {
    /** The policy that always computes, {@link CachePolicy#none()}. */
    public static final String NONE = "none";

    /** The decisions of the policies that reuse whole blocks only. */
    static final java.util.Set<CachePolicy.Decision> BLOCK_REUSE = java.util.Set.of(CachePolicy.Decision.COMPUTE,
            CachePolicy.Decision.REUSE_BLOCK);

    private static final List<String> NAMES = List.of(NONE, IntervalPolicy.NAME, BlockRangePolicy.NAME,
            PyramidAttentionPolicy.NAME, FirstBlockResidualPolicy.NAME, DualBlockPolicy.NAME, TeaCachePolicy.NAME,
            MagCachePolicy.NAME, TaylorSeerPolicy.NAME);

    private Policies() {
    }

    /** The base names {@link #create} knows, {@value #NONE} first. */
    public static List<String> names() {
        return NAMES;
    }

    /** {@link #create(String, Map)} of the {@code "name"} entry and the other entries of {@code description}. */
    public static CachePolicy create(Map<String, ?> description) {
        Objects.requireNonNull(description, "description");
        Object name = description.get("name");
        if (!(name instanceof String s)) {
            throw new IllegalArgumentException("a policy description needs a string 'name', got " + name + " in "
                    + description);
        }
        Map<String, Object> params = new LinkedHashMap<>(description);
        params.remove("name");
        return create(s, params);
    }

    /**
     * A policy by name. TeaCache needs {@code coefficients} and MagCache {@code ratios} (lists of numbers) here;
     * {@link #create(String, Map, RedundancyProfile)} can take them from a profile instead.
     *
     * @throws IllegalArgumentException for an unknown name, an unknown or missing parameter, a value of the wrong
     *                                  type or out of range
     */
    public static CachePolicy create(String name, Map<String, ?> params) {
        return create(name, params, null);
    }

    /**
     * A policy by name, with a profile for the policies that learn from one: without {@code coefficients},
     * TeaCache fits its polynomial of {@code degree} (default {@value TeaCachePolicy#DEFAULT_DEGREE}) with
     * {@link TeaCachePolicy#fit}; without {@code ratios}, MagCache takes its curves with
     * {@link MagCachePolicy#ratios} (per branch where the profile has UNCOND series). Other policies ignore the
     * profile; {@code profile} may be {@code null}.
     */
    public static CachePolicy create(String name, Map<String, ?> params, RedundancyProfile profile) {
        Objects.requireNonNull(name, "name");
        int plus = name.lastIndexOf('+');
        if (plus >= 0) {
            return withApproximation(create(name.substring(0, plus), params, profile),
                    approximation(name, name.substring(plus + 1)));
        }
        PolicyParameters p = new PolicyParameters(name, params);
        CachePolicy policy = switch (name) {
            case NONE -> CachePolicy.none();
            case IntervalPolicy.NAME -> new IntervalPolicy(p.integer("interval"));
            case BlockRangePolicy.NAME -> new BlockRangePolicy(p.integer("firstBlock", 0), p.integer("endBlock", -1),
                    p.integer("interval"), p.integer("fromStep", 0), p.integer("toStep", -1));
            case PyramidAttentionPolicy.NAME -> pab(p);
            case FirstBlockResidualPolicy.NAME -> new FirstBlockResidualPolicy(p.number("threshold"));
            case DualBlockPolicy.NAME -> new DualBlockPolicy(p.integer("firstBlocks", 1), p.integer("lastBlocks", 0),
                    p.number("threshold"), p.integer("warmupSteps", 0), p.integer("maxCachedSteps", -1),
                    p.integer("maxContinuousCachedSteps", -1));
            case TeaCachePolicy.NAME -> teaCache(p, profile);
            case MagCachePolicy.NAME -> magCache(p, profile);
            case TaylorSeerPolicy.NAME -> new TaylorSeerPolicy(p.integer("interval"), p.integer("warmupSteps", 3),
                    p.integer("order", 2));
            default -> throw new IllegalArgumentException("unknown cache policy '" + name + "'; expected one of "
                    + NAMES + ", optionally followed by +taylor1, +taylor2 or +reuse");
        };
        p.finish();
        return policy;
    }

    /** {@code policy} with its reused values approximated by {@code approximation} ({@link ApproximatedPolicy}). */
    public static CachePolicy withApproximation(CachePolicy policy, Approximation approximation) {
        return new ApproximatedPolicy(policy, approximation);
    }

    /** PAB; the temporal and cross windows default to the self-attention's. */
    private static CachePolicy pab(PolicyParameters p) {
        double start = p.number("start", 0.1);
        double end = p.number("end", 0.9);
        return new PyramidAttentionPolicy(p.integer("interval"), start, end, p.integer("temporalInterval", -1),
                p.number("temporalStart", start), p.number("temporalEnd", end), p.integer("crossInterval", -1),
                p.number("crossStart", start), p.number("crossEnd", end));
    }

    private static TeaCachePolicy teaCache(PolicyParameters p, RedundancyProfile profile) {
        double threshold = p.number("threshold");
        boolean hasDegree = p.has("degree");
        double[] coefficients = p.numbers("coefficients");
        if (coefficients != null) {
            if (hasDegree) {
                throw new IllegalArgumentException(TeaCachePolicy.NAME
                        + ": give either 'coefficients' or 'degree' (to fit them from a profile), not both");
            }
            return new TeaCachePolicy(threshold, coefficients);
        }
        if (profile == null) {
            throw new IllegalArgumentException(TeaCachePolicy.NAME + ": parameter 'coefficients' (a list of numbers,"
                    + " ascending powers) is required without a profile"
                    + (hasDegree ? "; 'degree' needs a profile to fit from" : ""));
        }
        return TeaCachePolicy.fitted(profile, p.integer("degree", TeaCachePolicy.DEFAULT_DEGREE), threshold);
    }

    private static MagCachePolicy magCache(PolicyParameters p, RedundancyProfile profile) {
        double threshold = p.number("threshold");
        int maxSkips = p.integer("maxSkips", 2);
        double retention = p.number("retention", 0.2);
        double[] ratios = p.numbers("ratios");
        double[] unconditional = p.numbers("unconditionalRatios");
        if (ratios == null) {
            if (profile == null) {
                throw new IllegalArgumentException(MagCachePolicy.NAME + ": parameter 'ratios' (a list of numbers)"
                        + " is required without a profile");
            }
            ratios = MagCachePolicy.ratios(profile, Branch.COND);
            if (unconditional == null && MagCachePolicy.hasBranch(profile, Branch.UNCOND)) {
                unconditional = MagCachePolicy.ratios(profile, Branch.UNCOND);
            }
        }
        return new MagCachePolicy(threshold, maxSkips, retention, ratios, unconditional);
    }

    private static Approximation approximation(String name, String suffix) {
        return switch (suffix) {
            case "reuse" -> Approximation.REUSE;
            case "taylor1" -> Approximation.taylor(1);
            case "taylor2" -> Approximation.taylor(2);
            default -> throw new IllegalArgumentException("cache policy '" + name + "': unknown approximation '+"
                    + suffix + "'; expected +taylor1, +taylor2 or +reuse");
        };
    }

    /** An ordered, unmodifiable description: {@code "name"} first, then the key-value pairs. */
    static Map<String, Object> description(String name, Object... keyValues) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        for (int i = 0; i < keyValues.length; i += 2) {
            d.put((String) keyValues[i], keyValues[i + 1]);
        }
        return Collections.unmodifiableMap(d);
    }

    /** A JSON-friendly list of {@code values}. */
    static List<Double> list(double[] values) {
        return Arrays.stream(values).boxed().toList();
    }
}
