package io.ditcache.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The timed pairs of one shootout case (an uncached and a cached run, back to back) and the verdict on them: a
 * median speedup above what the case's skipped share allows ({@link Shootout#speedupCeiling}, plus {@link
 * Shootout#SPEEDUP_TOLERANCE} relative) cannot be the cache's doing, so the case is re-measured with more pairs,
 * at most {@value #MAX_EXTRA_ROUNDS} times; a speedup still above the ceiling is noise.
 */
final class PairedTimings {
    /** Re-measurements of an impossible speedup before it is called noise. */
    static final int MAX_EXTRA_ROUNDS = 2;
    /** Pairs per re-measurement at least, whatever the repeats. */
    static final int MIN_EXTRA_PAIRS = 3;

    private final int repeats;
    private final double ceiling;
    private final List<double[]> pairs = new ArrayList<>();
    private int rounds;

    /**
     * @param repeats    pairs of the first round
     * @param ceiling    the highest speedup the case's skipped share allows
     */
    PairedTimings(int repeats, double ceiling) {
        this.repeats = repeats;
        this.ceiling = ceiling;
    }

    /** Adds one pair's wall times, seconds. */
    void add(double uncached, double cached) {
        pairs.add(new double[] {uncached, cached});
    }

    /**
     * How many more pairs to time: the first round's repeats until they are in; then, while the speedup is
     * impossible and re-measurements are left, another round; else 0. Each call that answers a new round counts it.
     */
    int pairsWanted() {
        if (pairs.size() < repeats) {
            return repeats - pairs.size();
        }
        if (impossible() && rounds < MAX_EXTRA_ROUNDS) {
            rounds++;
            return Math.max(repeats, MIN_EXTRA_PAIRS);
        }
        return 0;
    }

    /** Re-measurements started. */
    int extraRounds() {
        return rounds;
    }

    /** Median uncached time over median cached time, every pair. */
    double speedup() {
        return medianUncached() / medianCached();
    }

    double medianUncached() {
        return Shootout.median(pairs.stream().mapToDouble(p -> p[0]).toArray());
    }

    double medianCached() {
        return Shootout.median(pairs.stream().mapToDouble(p -> p[1]).toArray());
    }

    double[] uncached() {
        return pairs.stream().mapToDouble(p -> p[0]).toArray();
    }

    /** Whether the speedup lies above the ceiling by more than the tolerance. */
    boolean impossible() {
        return speedup() > ceiling * (1 + Shootout.SPEEDUP_TOLERANCE);
    }

    /** The speedups of the single pairs. */
    ShootoutRow.Spread spread() {
        return ShootoutRow.Spread.of(pairs.stream().mapToDouble(p -> p[0] / p[1]).toArray());
    }
}
