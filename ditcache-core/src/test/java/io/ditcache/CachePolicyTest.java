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
        CachePolicy.Decision mlp = CachePolicy.Decision.reuse(BlockPart.FEED_FORWARD);
        assertEquals(false, mlp.reuses(BlockPart.SELF_ATTENTION));
        assertEquals(true, mlp.reuses(BlockPart.FEED_FORWARD));
        assertEquals(true, CachePolicy.Decision.REUSE_BLOCK.reuses(BlockPart.SELF_ATTENTION));
        assertEquals(true, CachePolicy.Decision.reuse(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD)
                .reuses(BlockPart.FEED_FORWARD));
        assertEquals(CachePolicy.Decision.COMPUTE, CachePolicy.Decision.reuse());
    }
}
