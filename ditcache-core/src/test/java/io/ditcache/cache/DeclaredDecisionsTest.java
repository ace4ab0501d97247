package io.ditcache.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Approximation;
import io.ditcache.Block;
import io.ditcache.BlockPart;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CacheStats;
import io.ditcache.ScriptedPolicy;
import io.ditcache.internal.Tensors;
import io.ditcache.policy.IntervalPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.junit.jupiter.api.Test;

/**
 * A policy's declared decisions decide what the runtime keeps: a policy that reuses whole blocks only keeps no part
 * slots, one that reuses parts only keeps no residual slots, and either samples bit for bit what it sampled with
 * every decision declared; a decision outside the declared ones is refused; a decision's own forecast order runs as
 * the same order given by the policy.
 */
class DeclaredDecisionsTest {
    private static final int STEPS = 5;
    private static final int ROWS = CacheRuntimeTest.ROWS.size();

    /** {@code inner} with {@code declared} as its decisions ({@code null}: the inner policy's own). */
    private record Declaring(CachePolicy inner, Set<Decision> declared) implements CachePolicy {
        @Override
        public Decision decide(Query query) {
            return inner.decide(query);
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Approximation approximation() {
            return inner.approximation();
        }

        @Override
        public Set<Decision> decisions() {
            return declared == null ? inner.decisions() : declared;
        }

        @Override
        public Set<Decision> decisions(Block block) {
            return declared == null ? inner.decisions(block) : declared;
        }
    }

    /** What a run produced and what its runtime held at the end. */
    private record Outcome(List<float[]> outputs, long bytes, int points, List<String> trace) {
    }

    private static Outcome run(CachePolicy policy) {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TinyStack stack = new TinyStack(11);
            CacheRuntimeTest.Run run = CacheRuntimeTest.Run.random(12, STEPS);
            CacheStats stats = new CacheStats();
            List<float[]> out = new ArrayList<>();
            try (CacheRuntime runtime = new CacheRuntime(policy, stats, TinyStack.LAYOUT, STEPS,
                    CacheRuntimeTest.ROWS)) {
                for (int i = 0; i < STEPS; i++) {
                    out.add(Tensors.toFloats(stack.forward(runtime, CacheRuntimeTest.step(i, STEPS),
                            run.inputs().get(i), run.context(), run.g(i))));
                }
                return new Outcome(out, runtime.cachedBytes(), runtime.cachePoints(), stats.trace(0));
            }
        }
    }

    /** Bytes of one float cache point of {@code tokens} tokens over every row. */
    private static long bytes(int tokens) {
        return (long) ROWS * tokens * TinyStack.DIM * Float.BYTES;
    }

    private static void assertSameOutputs(Outcome a, Outcome b) {
        assertEquals(a.outputs().size(), b.outputs().size());
        for (int i = 0; i < a.outputs().size(); i++) {
            assertArrayEquals(a.outputs().get(i), b.outputs().get(i), 0f, "step " + i);
        }
        assertEquals(a.trace(), b.trace());
    }

    @Test
    void aWholeBlockPolicyKeepsNoPartSlotsAndSamplesAsBefore() {
        // reuse every other step, rows alike
        Function<CachePolicy.Query, Decision> f = q -> q.step() % 2 == 0 ? Decision.COMPUTE : Decision.REUSE_BLOCK;
        Outcome everything = run(new Declaring(new ScriptedPolicy(f), null));
        Outcome declared = run(new Declaring(new ScriptedPolicy(f), Set.of(Decision.COMPUTE, Decision.REUSE_BLOCK)));
        assertSameOutputs(everything, declared);
        assertTrue(declared.trace().contains("RRRR"), "whole blocks were reused: " + declared.trace());
        // residuals only: one image residual per block and the joint block's context residual
        long residuals = 4 * bytes(TinyStack.TOKENS) + bytes(TinyStack.CONTEXT_TOKENS);
        assertEquals(residuals, declared.bytes());
        assertEquals(2 * 4, declared.points(), "an image and a context residual slot per block, no parts");
        // with every decision declared the parts are kept too: 2 per plain block, 4 in the joint block
        long parts = 3 * 2 * bytes(TinyStack.TOKENS) + 2 * bytes(TinyStack.TOKENS)
                + 2 * bytes(TinyStack.CONTEXT_TOKENS);
        assertEquals(residuals + parts, everything.bytes());
        assertEquals(2 * 4 + 3 * 2 + 4, everything.points());
    }

    @Test
    void foraKeepsOnlyPartSlots() {
        IntervalPolicy fora = new IntervalPolicy(2);
        Outcome declared = run(fora);
        Outcome everything = run(new Declaring(fora, Decision.all()));
        assertSameOutputs(everything, declared);
        assertTrue(declared.trace().contains("bbbb"), "parts were reused: " + declared.trace());
        long parts = 3 * 2 * bytes(TinyStack.TOKENS) + 2 * bytes(TinyStack.TOKENS)
                + 2 * bytes(TinyStack.CONTEXT_TOKENS);
        assertEquals(parts, declared.bytes());
        assertEquals(3 * 2 + 4, declared.points());
        assertTrue(everything.bytes() > declared.bytes());
    }

    @Test
    void aDecisionOutsideTheDeclaredOnesIsRefused() {
        CachePolicy sneaky = new Declaring(new ScriptedPolicy(q -> q.step() == 0 ? Decision.COMPUTE
                : Decision.reuse(BlockPart.FEED_FORWARD)), Set.of(Decision.COMPUTE, Decision.REUSE_BLOCK));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(sneaky));
        assertTrue(e.getMessage().contains("reuse_feed_forward") && e.getMessage().contains("declare"),
                e.getMessage());
        // a forecast of order 2 where order 1 is declared needs a history the runtime does not keep
        CachePolicy deeper = new Declaring(new ScriptedPolicy(q -> q.step() < 2 ? Decision.COMPUTE
                : Decision.forecastBlock(2)), Set.of(Decision.COMPUTE, Decision.forecastBlock(1)));
        assertThrows(IllegalStateException.class, () -> run(deeper));
    }

    @Test
    void aDecisionsOwnForecastOrderRunsAsThePolicysOrder() {
        Function<CachePolicy.Query, Decision> when = q -> q.step() < 2 || q.step() == 3 ? Decision.COMPUTE
                : Decision.REUSE_BLOCK;
        Outcome policyWide = run(new ScriptedPolicy(when, Approximation.taylor(1), Set.of(), new ArrayList<>()));
        Outcome perDecision = run(new Declaring(new ScriptedPolicy(q -> when.apply(q).wholeBlock()
                ? Decision.forecastBlock(1) : Decision.COMPUTE), Set.of(Decision.COMPUTE,
                        Decision.forecastBlock(1))));
        for (int i = 0; i < STEPS; i++) {
            assertArrayEquals(policyWide.outputs().get(i), perDecision.outputs().get(i), 0f, "step " + i);
        }
        // a plain reuse differs from the forecast where two computed residuals are cached (steps 2 and 4)
        Outcome plain = run(new ScriptedPolicy(when));
        assertTrue(!java.util.Arrays.equals(plain.outputs().get(2), perDecision.outputs().get(2)));
        // forecasting keeps two residuals per point, no parts
        assertEquals(2 * (4 * bytes(TinyStack.TOKENS) + bytes(TinyStack.CONTEXT_TOKENS)), perDecision.bytes());
        assertEquals(List.of("CCCC", "CCCC", "TTTT", "CCCC", "TTTT"), perDecision.trace());
    }
}
