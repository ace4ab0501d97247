package io.ditcache.policy;

import io.ditcache.Branch;
import io.ditcache.CachePolicy;

/** One row of a batch, a sample of a guidance branch: the key of every policy's per-row state. */
record Row(Branch branch, int sample) {
    static Row of(CachePolicy.Query query) {
        return new Row(query.branch(), query.sample());
    }
}
