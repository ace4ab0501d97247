package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.Branch;
import io.ditcache.CacheSignal;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CachePolicy.Query;
import io.ditcache.SignalRequest;
import java.util.List;

/**
 * Plays {@link CachePolicy}'s documented call order over steps x layers x rows with scripted signals and records
 * the decisions: per step, per layer: {@code observe} of the MODULATED_INPUT_CHANGE requests at that layer from
 * step 1 on for every row, {@code decide} for every row, {@code observe} of the FIRST_BLOCKS_RESIDUAL_CHANGE
 * requests at that layer from step 1 on for every row.
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
            if (d.wholeBlock()) {
                return 'R';
            }
            boolean attention = d.reused().stream().anyMatch(io.ditcache.BlockPart::isAttention);
            boolean mlp = d.reused().stream().anyMatch(io.ditcache.BlockPart::isFeedForward);
            return attention && mlp ? 'B' : attention ? 'A' : mlp ? 'M' : 'C';
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
        for (int step = 0; step < steps; step++) {
            for (int layer = 0; layer < layers; layer++) {
                if (step > 0) {
                    observeAll(policy, CacheSignal.MODULATED_INPUT_CHANGE, script, step, steps, layer, layers, rows);
                }
                for (int r = 0; r < rows.size(); r++) {
                    at[r][step][layer] = decide(policy, step, steps, layer, layers, rows.get(r));
                }
                if (step > 0) { // step 0 has no reference
                    observeAll(policy, CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE, script, step, steps, layer, layers,
                            rows);
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
        Script script = perStep(new double[] {0, 0.05, 0.2, 0.05, 0.01, 0.5},
                new double[] {0, 0.5, 0.01, 0.01, 0.2, 0.01});
        assertSameDecisions(inner, outer, 6, 3, GUIDED, script);
    }

    private static Decision decide(CachePolicy policy, int step, int steps, int layer, int layers, BatchRow row) {
        return policy.decide(new Query(step, steps, layer, layers, row.branch(), row.sample()));
    }

    private static void observeAll(CachePolicy policy, CacheSignal kind, Script script, int step, int steps,
            int layer, int layers, List<BatchRow> rows) {
        SignalRequest request = new SignalRequest(kind, layer);
        if (!policy.signals().contains(request)) {
            return;
        }
        for (int r = 0; r < rows.size(); r++) {
            Double v = script.value(kind, step, r);
            if (v != null) {
                BatchRow row = rows.get(r);
                policy.observe(request, new Query(step, steps, layer, layers, row.branch(), row.sample()), v);
            }
        }
    }
}
