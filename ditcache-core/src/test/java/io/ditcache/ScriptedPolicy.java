package io.ditcache;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A policy for tests: decisions from a function of the query; every signal it observes is logged as
 * {@code "KIND block step layer branch sample value"}.
 */
public record ScriptedPolicy(Function<CachePolicy.Query, CachePolicy.Decision> f, Approximation approximation,
        Set<SignalRequest> signals, List<String> log) implements CachePolicy {

    public ScriptedPolicy(Function<CachePolicy.Query, CachePolicy.Decision> f) {
        this(f, Approximation.REUSE, Set.of(), new ArrayList<>());
    }

    @Override
    public Decision decide(Query q) {
        return f.apply(q);
    }

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public void observe(SignalRequest signal, Query q, double value) {
        log.add(signal.kind() + " " + signal.block() + " " + q.step() + " " + q.layer() + " " + q.branch() + " "
                + q.sample() + " " + value);
    }
}
