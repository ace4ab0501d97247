package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CachePolicyTest {
    @Test
    void noneAlwaysComputes() {
        CachePolicy p = CachePolicy.none();
        for (int step = 0; step < 5; step++) {
            for (int layer = 0; layer < 3; layer++) {
                for (Branch b : Branch.values()) {
                    assertEquals(CachePolicy.Decision.COMPUTE, p.decide(new CachePolicy.Query(step, 5, layer, 3, b,
                            1)));
                }
            }
        }
        assertEquals("none", p.name());
        assertEquals(Approximation.REUSE, p.approximation());
    }

    @Test
    void queriesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new CachePolicy.Query(5, 5, 0, 3, Branch.COND, 0));
        assertThrows(IllegalArgumentException.class, () -> new CachePolicy.Query(0, 5, -1, 3, Branch.COND, 0));
        assertThrows(IllegalArgumentException.class, () -> new CachePolicy.Query(0, 5, 3, 3, Branch.COND, 0));
        assertThrows(IllegalArgumentException.class, () -> Approximation.taylor(3));
    }

    @Test
    void decisionsSayWhichPartsRun() {
        assertEquals(true, CachePolicy.Decision.REUSE_MLP.runsAttention());
        assertEquals(false, CachePolicy.Decision.REUSE_MLP.runsMlp());
        assertEquals(false, CachePolicy.Decision.REUSE.runsAttention());
        assertEquals(false, CachePolicy.Decision.REUSE_ATTENTION_AND_MLP.runsMlp());
    }
}
