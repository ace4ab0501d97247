package io.ditcache.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Approximation;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CacheSignal;
import io.ditcache.CacheStats;
import io.ditcache.ScriptedPolicy;
import io.ditcache.SignalRequest;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.internal.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The cache runtime driven by {@link TinyStack}, a stack that knows nothing of ditcache's models: computing
 * everything is bit-identical to no cache, whole-block reuse adds the cached residual to each stream, part reuse
 * injects the cached part, Taylor forecasts are exact on polynomials, a whole model can be cached per step,
 * signals are measured only where asked, and the stats say what ran.
 */
class CacheRuntimeTest {
    static final List<Branch> ROWS = List.of(Branch.COND, Branch.COND, Branch.UNCOND);
    static final double[] TIMESTEPS = {900, 700, 500, 300, 100};

    /** Inputs of every step of a run: per step the stack's input, the context and the conditioning. */
    record Run(List<Tensor> inputs, Tensor context) {
        static Run random(long seed, int steps) {
            Random random = new Random(seed);
            List<Tensor> inputs = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                inputs.add(TinyStack.random(random, ROWS.size(), TinyStack.TOKENS));
            }
            return new Run(inputs, TinyStack.random(random, ROWS.size(), TinyStack.CONTEXT_TOKENS));
        }

        Tensor g(int i) {
            return TinyStack.conditioning(TIMESTEPS[i], ROWS.size());
        }
    }

    static Step step(int i, int steps) {
        return new Step(i, steps, TIMESTEPS[i], ROWS);
    }

    @Test
    void computingEverythingIsBitIdenticalToNoCache() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(1);
            Run run = Run.random(2, 5);
            ScriptedPolicy policy = new ScriptedPolicy(q -> Decision.COMPUTE, Approximation.taylor(2),
                    Set.of(SignalRequest.modulatedInput(0), SignalRequest.modulatedInput(2),
                            SignalRequest.firstBlocksResidual(1), SignalRequest.firstBlocksResidual(2)),
                    new ArrayList<>());
            CacheStats stats = new CacheStats();
            List<float[]> probed = new ArrayList<>();
            ActivationProbe probe = (step, site, t) -> {
                if (site.equals(Site.of(3, SiteKind.BLOCK_OUT))) {
                    probed.add(Tensors.toFloats(t));
                }
            };
            try (CacheRuntime runtime = new CacheRuntime(policy, stats, TinyStack.LAYOUT, 5, ROWS, probe)) {
                for (int i = 0; i < 5; i++) {
                    float[] plain = Tensors.toFloats(stack.forward(run.inputs().get(i), run.context(), run.g(i)));
                    float[] cached = Tensors.toFloats(stack.forward(runtime, step(i, 5), run.inputs().get(i),
                            run.context(), run.g(i)));
                    assertArrayEquals(plain, cached, 0f, "step " + i);
                    assertArrayEquals(plain, probed.get(i), 0f, "the probe sees the cached run's block output");
                }
            }
            assertEquals(0.0, stats.skippedFraction());
            assertEquals(5L * 4 * 3, stats.counts().get(Decision.COMPUTE));
            assertEquals(4 * 4 * 3, policy.log().size(), "4 signals x steps 1..4 x 3 rows, no step-0 reference");
        }
    }

    @Test
    void wholeBlockReuseAddsEachStreamsCachedResidualToItsInput() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(3);
            Run run = Run.random(4, 2);
            // block 1 and the joint block reuse wholly at step 1
            ScriptedPolicy policy = new ScriptedPolicy(q -> q.layer() == 1 || q.layer() == 2 ? Decision.REUSE_BLOCK
                    : Decision.COMPUTE);
            CacheStats stats = new CacheStats();
            try (CacheRuntime runtime = new CacheRuntime(policy, stats, TinyStack.LAYOUT, 2, ROWS)) {
                Tensor out0 = stack.forward(runtime, step(0, 2), run.inputs().get(0), run.context(), run.g(0));
                assertArrayEquals(Tensors.toFloats(stack.forward(run.inputs().get(0), run.context(), run.g(0))),
                        Tensors.toFloats(out0), 0f, "step 0 computes whatever the policy says");
                // step 0 by hand: the residuals of blocks 1 and 2 (both streams)
                Tensor x0 = stack.run(0, Streams.of(run.inputs().get(0)), run.g(0), Map.of()).output().image();
                Tensor x1 = stack.run(1, Streams.of(x0), run.g(0), Map.of()).output().image();
                Streams j0 = stack.run(2, Streams.joint(x1, run.context()), run.g(0), Map.of()).output();
                Tensor r1 = x1.sub(x0);
                Tensor r2 = j0.image().sub(x1);
                Tensor r2c = j0.context().sub(run.context());
                // step 1 by hand: block 0 computes, blocks 1 and 2 add their residuals, block 3 computes
                Tensor h0 = stack.run(0, Streams.of(run.inputs().get(1)), run.g(1), Map.of()).output().image();
                Tensor h1 = h0.add(r1);
                Tensor h2 = h1.add(r2);
                Tensor expected = stack.run(3, Streams.of(h2), run.g(1), Map.of()).output().image();
                List<Streams> joint = new ArrayList<>();
                Streams s = Streams.of(run.inputs().get(1));
                for (int l = 0; l < 4; l++) {
                    s = runtime.block(step(1, 2), l, l == 2 ? Streams.joint(s.image(), run.context())
                            : Streams.of(s.image()), stack.call(l, run.g(1)));
                    joint.add(s);
                }
                assertArrayEquals(Tensors.toFloats(expected), Tensors.toFloats(s.image()), 1e-6f);
                assertArrayEquals(Tensors.toFloats(run.context().add(r2c)), Tensors.toFloats(joint.get(2).context()),
                        1e-6f, "the joint block's context stream gets its own cached residual");
            }
            assertEquals(Decision.REUSE_BLOCK, stats.applied(1, 2, 0));
            assertEquals(Decision.COMPUTE, stats.applied(0, 2, 0));
            assertEquals(List.of("CCCC", "CRRC"), stats.trace(2));
            assertEquals(2.0 * 3 / (2 * 4 * 3), stats.skippedFraction(), 1e-12);
        }
    }

    @Test
    void partReuseInjectsTheCachedPartAndComputesTheRest() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(5);
            Run run = Run.random(6, 2);
            // every block reuses its attention parts (self and context); the joint block has a cross part it lacks
            Decision attention = Decision.reuse(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION,
                    BlockPart.CROSS_ATTENTION);
            CacheStats stats = new CacheStats();
            try (CacheRuntime runtime = new CacheRuntime(new ScriptedPolicy(q -> attention), stats, TinyStack.LAYOUT, 2,
                    ROWS)) {
                stack.forward(runtime, step(0, 2), run.inputs().get(0), run.context(), run.g(0));
                Tensor got = stack.forward(runtime, step(1, 2), run.inputs().get(1), run.context(), run.g(1));
                // by hand: step 0's parts, injected into step 1
                List<Map<BlockPart, Tensor>> parts = new ArrayList<>();
                Streams s = Streams.of(run.inputs().get(0));
                for (int l = 0; l < 4; l++) {
                    BlockOutput o = stack.run(l, l == 2 ? Streams.joint(s.image(), run.context())
                            : Streams.of(s.image()), run.g(0), Map.of());
                    parts.add(o.parts());
                    s = o.output();
                }
                s = Streams.of(run.inputs().get(1));
                for (int l = 0; l < 4; l++) {
                    Map<BlockPart, Tensor> given = new java.util.EnumMap<>(BlockPart.class);
                    given.put(BlockPart.SELF_ATTENTION, parts.get(l).get(BlockPart.SELF_ATTENTION));
                    if (l == 2) {
                        given.put(BlockPart.CONTEXT_ATTENTION, parts.get(l).get(BlockPart.CONTEXT_ATTENTION));
                    }
                    s = stack.run(l, l == 2 ? Streams.joint(s.image(), run.context()) : Streams.of(s.image()),
                            run.g(1), given).output();
                }
                assertArrayEquals(Tensors.toFloats(s.image()), Tensors.toFloats(got), 0f);
            }
            assertEquals(Decision.reuse(BlockPart.SELF_ATTENTION), stats.applied(1, 0, 0), "parts it lacks dropped");
            assertEquals(Decision.reuse(BlockPart.SELF_ATTENTION, BlockPart.CONTEXT_ATTENTION), stats.applied(1, 2, 1));
            assertEquals(List.of("CCCC", "aaaa"), stats.trace(0));
            // step 1: three plain blocks skip half, the joint block 2 of its 4 parts
            assertEquals((3 * 0.5 + 0.5) / 8, stats.skippedFraction(), 1e-12);
        }
    }

    @Test
    void rowsDecideApartAndOnlyReusingRowsChange() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(7);
            Run run = Run.random(8, 3);
            ScriptedPolicy policy = new ScriptedPolicy(q -> q.branch() == Branch.UNCOND ? Decision.REUSE_BLOCK
                    : q.sample() == 1 ? Decision.reuse(BlockPart.FEED_FORWARD) : Decision.COMPUTE);
            CacheStats stats = new CacheStats();
            try (CacheRuntime runtime = new CacheRuntime(policy, stats, TinyStack.LAYOUT, 3, ROWS)) {
                for (int i = 0; i < 3; i++) {
                    float[] plain = Tensors.toFloats(stack.forward(run.inputs().get(i), run.context(), run.g(i)));
                    float[] cached = Tensors.toFloats(stack.forward(runtime, step(i, 3), run.inputs().get(i),
                            run.context(), run.g(i)));
                    int per = plain.length / 3;
                    for (int e = 0; e < per; e++) {
                        assertEquals(plain[e], cached[e], 1e-6f, "row 0 computes, step " + i);
                    }
                    if (i > 0) {
                        assertTrue(differs(plain, cached, per, 2 * per), "row 1 reuses its feed-forward");
                        assertTrue(differs(plain, cached, 2 * per, 3 * per), "row 2 reuses whole blocks");
                    }
                }
            }
            // row 1 reuses half of each plain block and one of the joint block's 4 parts, at 2 of 3 steps
            assertArrayEquals(new double[] {0, 2.0 / 3 * (3 * 0.5 + 0.25) / 4, 2.0 / 3}, stats.skippedPerRow(),
                    1e-12);
            assertEquals(List.of(0, 1, 0), stats.rowSamples());
        }
    }

    private static boolean differs(float[] a, float[] b, int from, int to) {
        for (int e = from; e < to; e++) {
            if (a[e] != b[e]) {
                return true;
            }
        }
        return false;
    }

    @Test
    void taylorForecastsAreExactOnPolynomialTrajectories() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            // one block whose residual follows p(s) = 1 + 2s - 0.5 s^2 and one whose feed-forward follows 3 - s
            BlockLayout layout = BlockLayout.plain(2);
            int steps = 6;
            for (int order : new int[] {1, 2}) {
                // computes at steps 0, 1, 2 and 4; reuses 3 and 5
                ScriptedPolicy policy = new ScriptedPolicy(q -> q.step() == 3 || q.step() == 5
                        ? q.layer() == 0 ? Decision.REUSE_BLOCK : Decision.reuse(BlockPart.FEED_FORWARD)
                        : Decision.COMPUTE, Approximation.taylor(order), Set.of(), new ArrayList<>());
                try (CacheRuntime runtime = new CacheRuntime(policy, new CacheStats(), layout, steps, ROWS)) {
                    for (int i = 0; i < steps; i++) {
                        int s = i;
                        Step step = new Step(i, steps, 0, ROWS);
                        Tensor x = Tensors.fromFloats(new float[] {10, 20, 30}, 3, 1);
                        Streams b0 = runtime.block(step, 0, Streams.of(x), (rows, in, reused) -> BlockOutput.of(
                                Streams.of(in.image().add(Tensors.scalar(1 + 2 * s - 0.5 * s * s)))));
                        Streams b1 = runtime.block(step, 1, b0, (rows, in, reused) -> {
                            Tensor ff = reused.containsKey(BlockPart.FEED_FORWARD) ? reused.get(BlockPart.FEED_FORWARD)
                                    : Tensors.fromFloats(new float[] {3 - s, 3 - s, 3 - s}, 3, 1);
                            return new BlockOutput(Streams.of(in.image().add(ff)), Map.of(BlockPart.FEED_FORWARD,
                                    ff));
                        });
                        float[] out = Tensors.toFloats(b1.image());
                        double poly = 1 + 2 * s - 0.5 * s * s;
                        // order 2 is exact; order 1 is exact on the line 3 - s, and the line through steps a and b
                        // misses the parabola at s by 0.5 (s - a)(s - b): 1 at step 3 (from 1, 2), 1.5 at 5 (from 2, 4)
                        double expected = 10 + poly + (3 - s) + (order == 1 && s == 5 ? 1.5 : 0)
                                + (order == 1 && s == 3 ? 1 : 0);
                        assertEquals(expected, out[0], 1e-4, "order " + order + ", step " + s);
                    }
                }
            }
        }
    }

    @Test
    void aWholeModelIsCachedPerStep() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            // an opaque denoiser: output shape differs from its input, and whole-step reuse returns the output
            List<Integer> calls = new ArrayList<>();
            ScriptedPolicy policy = new ScriptedPolicy(q -> q.step() % 2 == 1 ? Decision.REUSE_BLOCK : Decision.COMPUTE);
            CacheStats stats = new CacheStats();
            List<float[]> outputs = new ArrayList<>();
            try (CacheRuntime runtime = new CacheRuntime(policy, stats, BlockLayout.wholeModel(), 5, ROWS)) {
                for (int i = 0; i < 5; i++) {
                    int s = i;
                    Tensor latents = Tensors.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
                    Tensor out = runtime.step(step(i, 5), latents, (rows, in) -> {
                        calls.add(s);
                        return in.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())
                                .add(Tensors.scalar(100 * s));
                    });
                    outputs.add(Tensors.toFloats(out));
                }
            }
            assertEquals(List.of(0, 2, 4), calls, "the model runs only at computed steps");
            assertArrayEquals(new float[] {3, 7, 11}, outputs.get(1), 0f, "step 1 is step 0's output");
            assertArrayEquals(new float[] {203, 207, 211}, outputs.get(3), 0f);
            assertEquals(List.of("C", "R", "C", "R", "C"), stats.trace(0));
            assertEquals(2.0 / 5, stats.skippedFraction(), 1e-12);
        }
    }

    @Test
    void signalsAreMeasuredAtTheirBlockAndOnlyWhenAsked() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(9);
            Run run = Run.random(10, 3);
            List<Integer> modulatedAt = new ArrayList<>();
            ScriptedPolicy policy = new ScriptedPolicy(q -> Decision.COMPUTE, Approximation.REUSE,
                    Set.of(SignalRequest.modulatedInput(2), SignalRequest.firstBlocksResidual(1),
                            SignalRequest.firstBlocksResidual(9)), new ArrayList<>());
            try (CacheRuntime runtime = new CacheRuntime(policy, new CacheStats(), TinyStack.LAYOUT, 3, ROWS)) {
                for (int i = 0; i < 3; i++) {
                    Streams s = Streams.of(run.inputs().get(i));
                    for (int l = 0; l < 4; l++) {
                        int layer = l;
                        BlockCall inner = stack.call(l, run.g(i));
                        BlockCall counting = BlockCall.of(inner, (rows, in) -> {
                            modulatedAt.add(layer);
                            return inner.modulatedInput(rows, in);
                        });
                        s = runtime.block(step(i, 3), l, l == 2 ? Streams.joint(s.image(), run.context())
                                : Streams.of(s.image()), counting);
                    }
                }
            }
            assertEquals(List.of(2, 2, 2), modulatedAt, "block 2's modulated input, once a step, nothing else");
            // steps 1 and 2, 3 rows, two measured signals (the one beyond the model is not measured)
            assertEquals(2 * 3 * 2, policy.log().size());
            assertTrue(policy.log().stream().allMatch(l -> l.startsWith(CacheSignal.MODULATED_INPUT_CHANGE + " 2 ")
                    && l.split(" ")[3].equals("2") || l.startsWith(CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE + " 1 ")
                    && l.split(" ")[3].equals("1")), policy.log().toString());
            // the residual change by hand, row 0 at step 1: blocks 0..1's residual against step 0's
            Tensor[] residual = new Tensor[2];
            for (int i = 0; i < 2; i++) {
                Tensor x = run.inputs().get(i);
                Tensor h = stack.run(1, stack.run(0, Streams.of(x), run.g(i), Map.of()).output(), run.g(i), Map.of())
                        .output().image();
                residual[i] = h.sub(x).narrow(0, 0, 1);
            }
            double num = residual[1].sub(residual[0]).abs().sum().item_double();
            double den = residual[0].abs().sum().item_double();
            String row0 = policy.log().stream().filter(l -> l.startsWith(CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE
                    + " 1 1 1 COND 0 ")).findFirst().orElseThrow();
            assertEquals(num / den, Double.parseDouble(row0.substring(row0.lastIndexOf(' ') + 1)), 1e-6);
        }
    }

    @Test
    void callsOutOfOrderAreRefusedAndCloseIsIdempotent() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(11);
            Run run = Run.random(12, 2);
            CacheRuntime runtime = new CacheRuntime(CachePolicy.none(), new CacheStats(), TinyStack.LAYOUT, 2, ROWS);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> runtime.block(step(0, 2), 1,
                    Streams.of(run.inputs().get(0)), stack.call(1, run.g(0))));
            assertTrue(e.getMessage().contains("expects block 0 of step 0, got block 1 of step 0"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> stack.forward(runtime, step(1, 2), run.inputs().get(0),
                    run.context(), run.g(0)));
            runtime.close();
            assertDoesNotThrow(runtime::close);
            assertThrows(IllegalStateException.class, () -> stack.forward(runtime, step(0, 2), run.inputs().get(0),
                    run.context(), run.g(0)));
        }
    }

    @Test
    void theProbeSeesEachStreamOfTheCachedRun() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(13);
            Run run = Run.random(14, 2);
            List<Site> sites = new ArrayList<>();
            ActivationProbe probe = (step, site, t) -> {
                if (step.index() == 1) {
                    sites.add(site);
                }
            };
            try (CacheRuntime runtime = new CacheRuntime(new ScriptedPolicy(q -> Decision.REUSE_BLOCK), new CacheStats(),
                    TinyStack.LAYOUT, 2, ROWS, probe)) {
                for (int i = 0; i < 2; i++) {
                    stack.forward(runtime, step(i, 2), run.inputs().get(i), run.context(), run.g(i));
                }
            }
            assertEquals(4 * 2 + 2, sites.size(), "output and residual of 4 blocks, and the joint block's text");
            assertTrue(sites.contains(new Site(2, SiteKind.BLOCK_RESIDUAL, TokenStream.TEXT)));
        }
    }

    @Test
    void queriesCarryTheBlockAndTheStepsTimestep() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(15);
            Run run = Run.random(16, 2);
            List<String> seen = new ArrayList<>();
            ScriptedPolicy policy = new ScriptedPolicy(q -> {
                seen.add(q.step() + " " + q.timestep() + " " + q.block().group() + " " + q.block().parts().size());
                return Decision.COMPUTE;
            });
            try (CacheRuntime runtime = new CacheRuntime(policy, new CacheStats(), TinyStack.LAYOUT, 2, ROWS)) {
                for (int i = 0; i < 2; i++) {
                    stack.forward(runtime, step(i, 2), run.inputs().get(i), run.context(), run.g(i));
                }
            }
            assertEquals("0 900.0 plain 2", seen.get(0));
            assertEquals("0 900.0 joint 4", seen.get(2 * 3));
            assertEquals("1 700.0 plain 2", seen.get(4 * 3));
        }
    }

    @Test
    void aWholeModelCanGiveTeaCacheASignal() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            // TeaCache on an opaque model: the change of its (timestep-scaled) input stands for the modulated input
            io.ditcache.policy.TeaCachePolicy tea = new io.ditcache.policy.TeaCachePolicy(0.25, new double[] {0, 1});
            CacheStats stats = new CacheStats();
            List<Integer> calls = new ArrayList<>();
            try (CacheRuntime runtime = new CacheRuntime(tea, stats, BlockLayout.wholeModel(), 5, ROWS)) {
                for (int i = 0; i < 5; i++) {
                    int s = i;
                    // the input moves by 10% a step: the accumulated change passes 0.25 every third step
                    Tensor latents = Tensors.fromFloats(new float[] {1, 1, 1}, 3, 1).mul(Tensors.scalar(
                            Math.pow(1.1, i)));
                    runtime.step(step(i, 5), latents, (rows, in) -> {
                        calls.add(s);
                        return in.mul(Tensors.scalar(2));
                    }, (rows, in) -> in);
                }
            }
            assertEquals(List.of(0, 3, 4), calls, "0.1 + 0.1 stays below 0.25, the third 0.1 does not");
            assertEquals(List.of("C", "R", "R", "C", "C"), stats.trace(2));
            assertThrows(UnsupportedOperationException.class, () -> {
                try (CacheRuntime runtime = new CacheRuntime(tea, new CacheStats(), BlockLayout.wholeModel(), 2,
                        ROWS)) {
                    for (int i = 0; i < 2; i++) {
                        runtime.step(step(i, 2), Tensors.fromFloats(new float[] {1, 2, 3}, 3, 1), (rows, in) -> in);
                    }
                }
            });
        }
    }
}
