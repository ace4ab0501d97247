package io.ditcache.model.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Approximation;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CacheStats;
import io.ditcache.ScriptedPolicy;
import io.ditcache.SignalRequest;
import io.ditcache.Step;
import io.ditcache.cache.CacheSlots;
import io.ditcache.internal.Tensors;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cache points of the DiT: a policy that never reuses samples bit for bit as uncached sampling; block,
 * attention and feed-forward reuse give exactly the value computed by hand from the cached step; Taylor
 * forecasts; per-row decisions; signals; stats.
 */
class CacheSessionTest {
    static final DiTConfig TINY = new DiTConfig(8, 2, 1, 1, 3, 2, 8, 3, 1e-5, true);
    static DiTModel model;

    @BeforeAll
    static void init() {
        model = new DiTModel(TINY);
        DiTInit.variancePreserving(model, 7);
    }

    static SamplingOptions options(int steps) {
        return new SamplingOptions(List.of(new Condition(1, 5), new Condition(2, 6)), steps, 2.0);
    }

    @Test
    void aPolicyThatNeverReusesSamplesBitForBitAsUncached() {
        Sampler sampler = new Sampler(model, Schedulers.create("ddim", Map.of()));
        Samples plain = sampler.sample(options(6), null, ActivationProbe.NONE);
        CacheStats stats = new CacheStats();
        Samples cached = sampler.sample(options(6), null, new ScriptedPolicy(q -> Decision.COMPUTE,
                Approximation.REUSE, Set.of(SignalRequest.modulatedInput(0), SignalRequest.firstBlocksResidual(0)),
                new ArrayList<>()), stats);
        assertArrayEquals(plain.values(), cached.values(), 0f);
        assertEquals(0.0, stats.skippedFraction());
        assertEquals(6L * 3 * 4, stats.counts().get(Decision.COMPUTE));
    }

    @Test
    void reuseGivesTheInputPlusTheCachedResidualAndStepZeroAlwaysComputes() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            List<Branch> rows = List.of(Branch.COND, Branch.COND);
            Tensor lat0 = torch.randn(2, 1, 8, 8);
            Tensor lat1 = torch.randn(2, 1, 8, 8);
            Tensor t0 = Tensors.fromFloats(new float[] {900}, 1);
            Tensor t1 = Tensors.fromFloats(new float[] {700}, 1);
            Tensor y = Tensors.fromLongs(new long[] {0, 2}, 2);
            CacheStats stats = new CacheStats();
            try (CacheSession s = new CacheSession(new ScriptedPolicy(q -> Decision.REUSE_BLOCK), stats, 3, 2, rows)) {
                Tensor out0 = model.forward(lat0, t0, y, new Step(0, 2, 900, rows), s);
                Tensor out1 = model.forward(lat1, t1, y, new Step(1, 2, 700, rows), s);
                // by hand: residuals of step 0, added to step 1's embedded input
                Tensor tt0 = t0.expand(2);
                Tensor x = model.embed(lat0);
                Tensor sum = torch.zeros_like(x);
                for (int l = 0; l < 3; l++) {
                    Tensor next = model.block(l).forward(x, tt0, y, new Step(0, 2, 900, rows), ActivationProbe.NONE);
                    sum = sum.add(next.sub(x));
                    x = next;
                }
                assertArrayEquals(Tensors.toFloats(model.forward(lat0, t0, y, new Step(0, 2, 900, rows),
                        ActivationProbe.NONE)), Tensors.toFloats(out0), 0f, "step 0 computes");
                // each block adds its own cached residual: together, the range's total
                Tensor expected = model.head(model.embed(lat1).add(sum), t1.expand(2), y);
                assertArrayEquals(Tensors.toFloats(expected), Tensors.toFloats(out1), 2e-6f);
                assertEquals(Decision.COMPUTE, stats.applied(0, 1, 0));
                assertEquals(Decision.REUSE_BLOCK, stats.applied(1, 1, 0));
                assertEquals(0.5, stats.skippedFraction(), 1e-12);
            }
        }
    }

    @Test
    void attentionAndFeedForwardReuseUseTheCachedOutputsWithTheCurrentGates() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            List<Branch> rows = List.of(Branch.COND);
            Tensor lat0 = torch.randn(1, 1, 8, 8);
            Tensor lat1 = torch.randn(1, 1, 8, 8);
            Tensor t0 = Tensors.fromFloats(new float[] {900}, 1);
            Tensor t1 = Tensors.fromFloats(new float[] {700}, 1);
            Tensor y = Tensors.fromLongs(new long[] {1}, 1);
            for (Decision d : List.of(Decision.reuse(BlockPart.SELF_ATTENTION), Decision.reuse(BlockPart.FEED_FORWARD),
                    Decision.reuse(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD))) {
                try (CacheSession s = new CacheSession(new ScriptedPolicy(q -> d), new CacheStats(), 3, 2, rows)) {
                    model.forward(lat0, t0, y, new Step(0, 2, 900, rows), s);
                    Tensor got = model.forward(lat1, t1, y, new Step(1, 2, 700, rows), s);
                    // by hand: block l at step 1 with step 0's attention / MLP output of block l
                    Tensor x = model.embed(lat0);
                    List<Tensor[]> cached = new ArrayList<>();
                    for (int l = 0; l < 3; l++) {
                        Tensor[] parts = new Tensor[2];
                        x = model.block(l).forward(x, t0, y, new Step(0, 2, 900, rows), ActivationProbe.NONE,
                                null, null, parts);
                        cached.add(parts);
                    }
                    Tensor h = model.embed(lat1);
                    for (int l = 0; l < 3; l++) {
                        h = model.block(l).forward(h, t1, y, new Step(1, 2, 700, rows), ActivationProbe.NONE,
                                d.reuses(BlockPart.SELF_ATTENTION) ? cached.get(l)[0] : null,
                                d.reuses(BlockPart.FEED_FORWARD) ? cached.get(l)[1] : null,
                                null);
                    }
                    assertArrayEquals(Tensors.toFloats(model.head(h, t1, y)), Tensors.toFloats(got), 0f,
                            d.toString());
                }
            }
        }
    }

    @Test
    void taylorForecastsArePolynomialExtrapolationsOfTheComputedSteps() {
        try (PointerScope scope = new PointerScope(); CacheSlots slots = new CacheSlots(3, 2)) {
            // row values f(s) = 1 + 2s + 0.5s^2 (row 0) and 3 - s (row 1), computed at steps 0, 2, 3
            for (int s : new int[] {0, 2, 3}) {
                slots.update(Tensors.fromFloats(new float[] {1 + 2 * s + 0.5f * s * s, 3 - s}, 2, 1), new int[] {0, 1},
                        s);
            }
            float[] second = Tensors.toFloats(slots.forecast(new int[] {0, 1}, 5, 2));
            assertEquals(1 + 10 + 12.5, second[0], 1e-4);
            assertEquals(-2, second[1], 1e-5);
            float[] first = Tensors.toFloats(slots.forecast(new int[] {0}, 5, 1));
            float f2 = 1 + 4 + 2;
            float f3 = 1 + 6 + 4.5f;
            assertEquals(f3 + 2 * (f3 - f2), first[0], 1e-4, "order 1: the line through steps 2 and 3");
            assertEquals(f3, Tensors.toFloats(slots.forecast(new int[] {0}, 5, 0))[0], 0f, "order 0: plain reuse");
            // row 1 computes again at step 4 on its own: rows now have different histories
            slots.update(Tensors.fromFloats(new float[] {-1}, 1, 1), new int[] {1}, 4);
            float[] mixed = Tensors.toFloats(slots.forecast(new int[] {0, 1}, 6, 1));
            assertEquals(f3 + 3 * (f3 - f2), mixed[0], 1e-4);
            assertEquals(-3, mixed[1], 1e-5);
        }
    }

    @Test
    void rowsDecideIndependentlyAndSignalsArriveInOrder() {
        Sampler sampler = new Sampler(model, Schedulers.create("ddim", Map.of()));
        List<String> log = new ArrayList<>();
        // the unconditional sample 1 reuses every block after step 0; every other row computes
        ScriptedPolicy policy = new ScriptedPolicy(q -> q.branch() == Branch.UNCOND && q.sample() == 1 ? Decision.REUSE_BLOCK
                : Decision.COMPUTE, Approximation.REUSE, Set.of(SignalRequest.modulatedInput(0),
                        SignalRequest.firstBlocksResidual(0)), log);
        CacheStats stats = new CacheStats();
        Samples cached = sampler.sample(options(4), null, policy, stats);
        Samples plain = sampler.sample(options(4), null, ActivationProbe.NONE);
        assertEquals(List.of("CCC", "RRR", "RRR", "RRR"), stats.trace(3));
        assertEquals(List.of("CCC", "CCC", "CCC", "CCC"), stats.trace(2));
        assertEquals(3.0 / 16, stats.skippedFraction(), 1e-12);
        assertEquals(0.0, stats.skippedPerBranch().get(Branch.COND));
        assertArrayEquals(new double[] {0, 0, 0, 0.75}, stats.skippedPerRow(), 1e-12, "per sample and branch");
        assertEquals(List.of(Branch.COND, Branch.COND, Branch.UNCOND, Branch.UNCOND), stats.rowBranches());
        assertEquals(List.of(0, 1, 0, 1), stats.rowSamples());
        // guidance mixes the branches, so sample 1 changes and sample 0 (all rows computed) stays as uncached
        float[] a = cached.values();
        float[] b = plain.values();
        int per = a.length / 2;
        for (int e = 0; e < per; e++) {
            assertEquals(b[e], a[e], 1e-5f, "sample 0");
        }
        boolean differs = false;
        for (int e = per; e < a.length; e++) {
            differs |= a[e] != b[e];
        }
        assertTrue(differs, "sample 1 reused its unconditional branch");
        // MODULATED_INPUT_CHANGE from step 1 on for all 4 rows; FIRST_BLOCKS from step 1 for all rows, since
        // step 0 set every row's reference; the reusing row's reference stays at step 0
        assertEquals(4 * 3, log.stream().filter(l -> l.startsWith("MODULATED_INPUT_CHANGE")).count());
        assertEquals(4 * 3, log.stream().filter(l -> l.startsWith("FIRST_BLOCKS_RESIDUAL_CHANGE")).count());
        assertTrue(log.stream().noneMatch(l -> l.split(" ")[2].equals("0")), "no step-0 signal");
        for (String l : log) {
            double v = Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            assertTrue(v > 0 && Double.isFinite(v), l);
        }
    }

    @Test
    void theModelsCachedSessionHandsTheCachedTrajectoryToAProbe() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            List<Branch> rows = List.of(Branch.COND, Branch.UNCOND);
            Tensor lat = torch.randn(2, 1, 8, 8);
            Tensor t = Tensors.fromFloats(new float[] {900}, 1);
            Tensor y = Tensors.fromLongs(new long[] {1, 3}, 2);
            Step step = new Step(0, 1, 900, rows);
            List<float[]> plain = new ArrayList<>();
            model.forward(lat, t, y, step, (s, site, v) -> {
                if (site.kind() == io.ditcache.SiteKind.BLOCK_OUT) {
                    plain.add(Tensors.toFloats(v));
                }
            });
            List<float[]> cached = new ArrayList<>();
            CacheStats stats = new CacheStats();
            try (CacheSession unprobed = model.cacheSession(CachePolicy.none(), new CacheStats(), 1, rows,
                    ActivationProbe.NONE)) {
                assertArrayEquals(Tensors.toFloats(model.forward(lat, t, y, step, ActivationProbe.NONE)),
                        Tensors.toFloats(model.forward(lat, t, y, step, unprobed)), 0f);
            }
            try (CacheSession s = model.cacheSession(CachePolicy.none(), stats, 1, rows, (st, site, v) -> {
                if (site.kind() == io.ditcache.SiteKind.BLOCK_OUT) {
                    cached.add(Tensors.toFloats(v));
                }
            })) {
                model.forward(lat, t, y, step, s);
            }
            assertEquals(3, cached.size());
            for (int l = 0; l < 3; l++) {
                assertArrayEquals(plain.get(l), cached.get(l), 0f, "block " + l);
            }
            assertEquals(model.blockLayout(), stats.layout());
            assertEquals(12.0 * 16 * 16, model.blockLayout().block(0).cost(),
                    "multiply-adds per token, d = 2 heads x 8");
        }
    }
}
