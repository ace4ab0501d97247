package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CachePolicyTest {
    @Test
    void noCacheComputesEveryBlockOfEveryBranch() {
        CachePolicy p = CachePolicy.none();
        for (Branch b : Branch.values()) {
            for (int step = 0; step < 5; step++) {
                for (int layer = 0; layer < 3; layer++) {
                    assertEquals(CachePolicy.Decision.COMPUTE, p.decide(new CachePolicy.Query(step, 5, layer, b, 1)));
                }
            }
        }
        assertEquals(Map.of("name", "none"), p.describe());
    }

    @Test
    void queriesOutsideTheRunAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new CachePolicy.Query(5, 5, 0, Branch.COND, 0));
        assertThrows(IllegalArgumentException.class, () -> new CachePolicy.Query(0, 5, -1, Branch.COND, 0));
    }
}
