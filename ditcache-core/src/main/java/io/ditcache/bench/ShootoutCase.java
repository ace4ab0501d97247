package io.ditcache.bench;

import io.ditcache.CachePolicy;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One policy setting of a shootout.
 *
 * @param policy  policy name, the {@code policy} column
 * @param params  its parameters as short text, the {@code params} column
 * @param factory makes a fresh policy for each sampling run
 */
public record ShootoutCase(String policy, String params, Supplier<CachePolicy> factory) {
    public ShootoutCase {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(factory, "factory");
    }
}
