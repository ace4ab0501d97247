package io.ditcache;

/**
 * How a reused value is approximated from the values a cache point computed at earlier steps: plain reuse of the
 * last one, or a Taylor-style extrapolation (TaylorSeer) of order 1 or 2 in the step index, from the last
 * {@code order + 1} computed steps (Newton divided differences, exact for polynomials of that order).
 *
 * @param order 0 (plain reuse), 1 or 2
 */
public record Approximation(int order) {
    /** Plain reuse of the last computed value. */
    public static final Approximation REUSE = new Approximation(0);

    public Approximation {
        if (order < 0 || order > 2) {
            throw new IllegalArgumentException("approximation order " + order + ": expected 0 (reuse), 1 or 2");
        }
    }

    /** Taylor extrapolation of order 1 or 2. */
    public static Approximation taylor(int order) {
        if (order < 1) {
            throw new IllegalArgumentException("Taylor order " + order + ": expected 1 or 2");
        }
        return new Approximation(order);
    }

    /** How many computed values the cache keeps per point. */
    public int history() {
        return order + 1;
    }

    @Override
    public String toString() {
        return order == 0 ? "reuse" : "taylor" + order;
    }
}
