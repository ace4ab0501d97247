package io.ditcache.model.latte;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.policy.Policies;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PAB on Latte as diffusers' {@code PyramidAttentionBroadcastConfig} has it: the spatial blocks' self-attention
 * follows {@code interval} (spatial_attention_block_skip_range), the temporal blocks' self-attention
 * {@code temporalInterval} (temporal_attention_block_skip_range) and the spatial blocks' cross-attention
 * {@code crossInterval} (cross_attention_block_skip_range); feed-forwards always run.
 */
class LattePyramidAttentionTest {
    static final int STEPS = 7;

    @Test
    void spatialTemporalAndCrossAttentionEachFollowTheirOwnRange() {
        LatteModel model = LatteDenoiserTest.tiny(11);
        BlockLayout layout = model.blockLayout();
        CachePolicy pab = Policies.create("pab", Map.of("interval", 2, "temporalInterval", 3, "crossInterval", 4,
                "start", 0.0, "end", 1.0));
        for (int step = 0; step < STEPS; step++) {
            for (int layer = 0; layer < layout.size(); layer++) {
                CachePolicy.Decision d = pab.decide(new CachePolicy.Query(step, STEPS, 1000 - step * 100, layout,
                        layer, Branch.COND, 0));
                boolean spatial = layer % 2 == 0;
                String where = "step " + step + " block " + layer;
                assertFalse(d.wholeBlock(), where);
                assertEquals(spatial ? step % 2 != 0 : step % 3 != 0, d.reuses(BlockPart.SELF_ATTENTION), where);
                assertEquals(spatial && step % 4 != 0, d.reuses(BlockPart.CROSS_ATTENTION), where);
                assertFalse(d.reuses(BlockPart.FEED_FORWARD), where);
            }
        }
    }

    @Test
    void eachKindHasItsOwnWindowAsDiffusersTimestepSkipRanges() {
        BlockLayout layout = LatteDenoiserTest.tiny(13).blockLayout();
        // 11 steps: u = 0, 0.1, ..., 1; spatial window [0.2, 0.8], temporal [0.5, 1.0], cross [0.0, 0.3]
        CachePolicy pab = Policies.create("pab", Map.of("interval", 2, "start", 0.2, "end", 0.8,
                "temporalInterval", 2, "temporalStart", 0.5, "temporalEnd", 1.0,
                "crossInterval", 2, "crossStart", 0.0, "crossEnd", 0.3));
        StringBuilder self = new StringBuilder();
        StringBuilder temporal = new StringBuilder();
        StringBuilder cross = new StringBuilder();
        for (int step = 0; step < 11; step++) {
            CachePolicy.Decision s = pab.decide(new CachePolicy.Query(step, 11, 0, layout, 0, Branch.COND, 0));
            CachePolicy.Decision t = pab.decide(new CachePolicy.Query(step, 11, 0, layout, 1, Branch.COND, 0));
            self.append(s.reuses(BlockPart.SELF_ATTENTION) ? 'R' : 'C');
            cross.append(s.reuses(BlockPart.CROSS_ATTENTION) ? 'R' : 'C');
            temporal.append(t.reuses(BlockPart.SELF_ATTENTION) ? 'R' : 'C');
            assertFalse(t.reuses(BlockPart.CROSS_ATTENTION));
        }
        assertEquals("CCCRCRCRCCC", self.toString());
        assertEquals("CCCCCCRCRCR", temporal.toString());
        assertEquals("CRCRCCCCCCC", cross.toString());
        // described and recreated: the same decisions
        CachePolicy again = Policies.create(pab.describe());
        for (int step = 0; step < 11; step++) {
            for (int layer = 0; layer < layout.size(); layer++) {
                CachePolicy.Query q = new CachePolicy.Query(step, 11, 0, layout, layer, Branch.COND, 0);
                assertEquals(pab.decide(q), again.decide(q));
            }
        }
    }

    @Test
    void temporalReuseAloneSkipsWorkInTheTemporalBlocks() {
        LatteModel model = LatteDenoiserTest.tiny(12);
        SamplingOptions options = new SamplingOptions(List.of(new Condition(LatteDenoiserTest.prompt(1,
                LatteDenoiserTest.CAPTION), 3)), STEPS, 1.0);
        Sampler sampler = new Sampler(model, Schedulers.create("ddim", Map.of()));
        float[] plain = sampler.sample(options, null, ActivationProbe.NONE).values();
        CacheStats none = new CacheStats();
        float[] spatialOnly = sampler.sample(options, null, Policies.create("pab", Map.of("interval", 1,
                "temporalInterval", 1, "start", 0.0, "end", 1.0)), none).values();
        assertEquals(0.0, none.skippedFraction(), "every range 1: everything computes");
        assertEquals(plain.length, spatialOnly.length);
        for (int i = 0; i < plain.length; i++) {
            assertEquals(plain[i], spatialOnly[i], 0f);
        }
        CacheStats temporal = new CacheStats();
        float[] reused = sampler.sample(options, null, Policies.create("pab", Map.of("interval", 1,
                "temporalInterval", 2, "start", 0.0, "end", 1.0)), temporal).values();
        assertTrue(temporal.skippedFraction() > 0, "temporal self-attention reused");
        double diff = 0;
        for (int i = 0; i < plain.length; i++) {
            diff = Math.max(diff, Math.abs(plain[i] - reused[i]));
        }
        assertTrue(diff > 1e-6, "reusing temporal attention changes the sample: " + diff);
    }
}
