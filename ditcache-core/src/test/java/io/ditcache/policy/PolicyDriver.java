package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.Branch;
import io.ditcache.CacheSignal;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import java.util.List;

/**
 * Plays {@link CachePolicy}'s documented call order over steps x rows x layers with scripted signals and records
 * the decisions: per step, per row, {@code observe(MODULATED_INPUT_CHANGE)} from step 1 on, {@code decide} for
 * layers {@code 0 .. firstBlocks()-1}, {@code observe(FIRST_BLOCKS_RESIDUAL_CHANGE)} from step 1 on, {@code decide}
 * for the rest.
 * A signal is observed only when the policy asks for it and the script has a value.
 */
final class PolicyDriver {
    /** One row of the batch. */
    record BatchRow(Branch branch, int sample) {
    }

    static final List<BatchRow> COND = List.of(new BatchRow(Branch.COND, 0));
    /** Classifier-free guidance, one sample: the COND row, then the UNCOND row. */
    static final List<BatchRow> GUIDED = List.of(new BatchRow(Branch.COND, 0), new BatchRow(Branch.UNCOND, 0));
    /** Two samples of the COND branch. */
    static final List<BatchRow> PAIR = List.of(new BatchRow(Branch.COND, 0), new BatchRow(Branch.COND, 1));

    /** A scripted signal value, or {@code null} where the model measures nothing. */
    interface Script {
        Double value(CacheSignal signal, int step, int row);
    }

    /** No signals at all. */
    static final Script SILENT = (signal, step, row) -> null;

    /** The same value for every signal and row from step 1 on. */
    static Script constant(double value) {
        return (signal, step, row) -> step == 0 ? null : value;
    }

    /** Per row, the value at each step (NaN: nothing measured); step 0 is never observed. */
    static Script perStep(double[]... rows) {
        return (signal, step, row) -> step == 0 || Double.isNaN(rows[row][step]) ? null : rows[row][step];
    }

    /** Decisions {@code [row][step][layer]} of one run. */
    record Decisions(Decision[][][] at) {
        /** One row's decisions of one layer over the steps: C compute, R reuse, A/M reuse attention/MLP, B both. */
        String steps(int row, int layer) {
            StringBuilder s = new StringBuilder();
            for (Decision[] step : at[row]) {
                s.append(letter(step[layer]));
            }
            return s.toString();
        }

        boolean allCompute() {
            for (Decision[][] row : at) {
                for (Decision[] step : row) {
                    for (Decision d : step) {
                        if (d != Decision.COMPUTE) {
                            return false;
                        }
                    }
                }
            }
            return true;
        }

        int reused() {
            int n = 0;
            for (Decision[][] row : at) {
                for (Decision[] step : row) {
                    for (Decision d : step) {
                        n += d == Decision.COMPUTE ? 0 : 1;
                    }
                }
            }
            return n;
        }

        private static char letter(Decision d) {
            return switch (d) {
                case COMPUTE -> 'C';
                case REUSE -> 'R';
                case REUSE_ATTENTION -> 'A';
                case REUSE_MLP -> 'M';
                case REUSE_ATTENTION_AND_MLP -> 'B';
            };
        }
    }

    private PolicyDriver() {
    }

    /** {@code reset()}, then one run. */
    static Decisions run(CachePolicy policy, int steps, int layers, List<BatchRow> rows, Script script) {
        policy.reset();
        return play(policy, steps, layers, rows, script);
    }

    /** One run without {@code reset()} first: the policy keeps whatever state it has. */
    static Decisions play(CachePolicy policy, int steps, int layers, List<BatchRow> rows, Script script) {
        Decision[][][] at = new Decision[rows.size()][steps][layers];
        int first = Math.min(policy.firstBlocks(), layers);
        for (int step = 0; step < steps; step++) {
            for (int r = 0; r < rows.size(); r++) {
                BatchRow row = rows.get(r);
                if (step > 0) {
                    observe(policy, CacheSignal.MODULATED_INPUT_CHANGE, script, step, steps, 0, layers, row, r);
                }
                for (int layer = 0; layer < first; layer++) {
                    at[r][step][layer] = decide(policy, step, steps, layer, layers, row);
                }
                if (step > 0) { // step 0 has no reference
                    observe(policy, CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE, script, step, steps, first - 1, layers,
                            row, r);
                }
                for (int layer = first; layer < layers; layer++) {
                    at[r][step][layer] = decide(policy, step, steps, layer, layers, row);
                }
            }
        }
        return new Decisions(at);
    }

    /** Asserts that two policies decide alike on one run. */
    static void assertSameDecisions(CachePolicy expected, CachePolicy actual, int steps, int layers,
            List<BatchRow> rows, Script script) {
        Decisions a = run(expected, steps, layers, rows, script);
        Decisions b = run(actual, steps, layers, rows, script);
        for (int r = 0; r < rows.size(); r++) {
            for (int l = 0; l < layers; l++) {
                assertEquals(a.steps(r, l), b.steps(r, l), "row " + r + ", layer " + l);
            }
        }
    }

    /** Asserts that {@code outer} asks for the same signals and decides like {@code inner}. */
    static void assertDelegates(CachePolicy inner, CachePolicy outer) {
        assertEquals(inner.signals(), outer.signals());
        assertEquals(inner.firstBlocks(), outer.firstBlocks());
        Script script = perStep(new double[] {0, 0.05, 0.2, 0.05, 0.01, 0.5},
                new double[] {0, 0.5, 0.01, 0.01, 0.2, 0.01});
        assertSameDecisions(inner, outer, 6, 3, GUIDED, script);
    }

    private static Decision decide(CachePolicy policy, int step, int steps, int layer, int layers, BatchRow row) {
        return policy.decide(new Query(step, steps, layer, layers, row.branch(), row.sample()));
    }

    private static void observe(CachePolicy policy, CacheSignal signal, Script script, int step, int steps,
            int layer, int layers, BatchRow row, int r) {
        if (!policy.signals().contains(signal)) {
            return;
        }
        Double v = script.value(signal, step, r);
        if (v != null) {
            policy.observe(signal, new Query(step, steps, layer, layers, row.branch(), row.sample()), v);
        }
    }
}
