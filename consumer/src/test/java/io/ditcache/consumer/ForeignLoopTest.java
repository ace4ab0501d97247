package io.ditcache.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ForeignLoopTest {
    @Test
    void noCacheIsExactAndEachPolicySkipsWithABoundedError() {
        List<ForeignLoop.Result> results = ForeignLoop.run();
        assertEquals(List.of("none", "profile-guided", "magcache"), results.stream().map(ForeignLoop.Result::policy)
                .toList());
        assertEquals(0.0, results.get(0).skippedFraction());
        assertEquals(0.0, results.get(0).maxAbsError(), "the runtime computing everything is bit-identical");
        for (ForeignLoop.Result r : results.subList(1, results.size())) {
            assertTrue(r.skippedFraction() > 0.1, r.toString());
            assertTrue(r.maxAbsError() > 0 && r.maxAbsError() < 1, r.toString());
        }
    }
}
