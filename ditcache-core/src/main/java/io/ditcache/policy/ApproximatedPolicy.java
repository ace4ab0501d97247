package io.ditcache.policy;

import io.ditcache.Approximation;
import io.ditcache.CachePolicy;
import io.ditcache.SignalRequest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Any policy's "when" with another "how": delegates everything to {@code inner} but answers
 * {@link #approximation()} with its own. Its name is the inner name plus {@code "+taylor1"}, {@code "+taylor2"}
 * or {@code "+reuse"}, which {@link Policies#create(Map)} reads back.
 */
public final class ApproximatedPolicy implements CachePolicy {
    private final CachePolicy inner;
    private final Approximation approximation;

    /**
     * @param inner         the policy that decides when to compute
     * @param approximation how reused values are approximated
     */
    public ApproximatedPolicy(CachePolicy inner, Approximation approximation) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.approximation = Objects.requireNonNull(approximation, "approximation");
    }

    public CachePolicy inner() {
        return inner;
    }

    @Override
    public Approximation approximation() {
        return approximation;
    }

    @Override
    public Decision decide(Query query) {
        return inner.decide(query);
    }

    @Override
    public Set<Decision> decisions() {
        return inner.decisions();
    }

    @Override
    public Set<Decision> decisions(io.ditcache.Block block) {
        return inner.decisions(block);
    }

    @Override
    public String name() {
        return inner.name() + "+" + approximation;
    }

    /** The inner policy's description under this policy's name. */
    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>(inner.describe());
        d.put("name", name());
        return Collections.unmodifiableMap(d);
    }

    @Override
    public void reset() {
        inner.reset();
    }

    @Override
    public Set<SignalRequest> signals() {
        return inner.signals();
    }

    @Override
    public void observe(SignalRequest signal, Query query, double value) {
        inner.observe(signal, query, value);
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
