package io.ditcache.model.dit;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CacheSignal;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * One cached sampling run of a {@link DiTModel}: the {@link CachePolicy}, the cache points' stored values
 * ({@link CacheSlots} per block for its residual, attention and feed-forward output), the per-row signal state
 * and the {@link CacheStats}. Pass it to {@link DiTModel#forward(Tensor, Tensor, Tensor, Step, CacheSession)}
 * once per step, in order; close it after the run to free the cached tensors.
 *
 * <p>Whatever the policy answers, step 0 computes everything, and a row reuses only what it has cached: a
 * decision that needs a missing value becomes {@code COMPUTE}. Rows that compute a block run it together as one
 * batch; when every row computes, the block runs on the whole batch exactly as without a cache, so a policy that
 * never reuses samples bit for bit what uncached sampling does.
 */
public final class CacheSession implements AutoCloseable {
    private enum Part {
        RESIDUAL, ATTENTION, MLP
    }

    private final CachePolicy policy;
    private final CacheStats stats;
    private final int layers;
    private final int steps;
    private final List<Branch> branches;
    private final int[] samples;
    private final int order;
    private final Set<CacheSignal> signals;
    private final List<Map<Part, CacheSlots>> slots = new ArrayList<>();
    /** Block 0's modulated input at the previous step (one slot), for MODULATED_INPUT_CHANGE. */
    private final CacheSlots previousModulated;
    /** The first blocks' residual at each row's last full compute, for FIRST_BLOCKS_RESIDUAL_CHANGE. */
    private final CacheSlots firstBlocksReference;
    private int nextStep;

    /**
     * @param policy decides; reset here
     * @param stats  receives the applied decisions
     * @param layers the model's blocks
     * @param steps  calls in the run
     * @param rows   the branch of each batch row (as in {@link Step#rows()})
     */
    public CacheSession(CachePolicy policy, CacheStats stats, int layers, int steps, List<Branch> rows) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.stats = Objects.requireNonNull(stats, "stats");
        this.layers = layers;
        this.steps = steps;
        this.branches = List.copyOf(rows);
        this.samples = new int[rows.size()];
        Step probeRows = new Step(0, 1, 0, rows);
        List<Integer> sampleList = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            samples[r] = probeRows.sampleOf(r);
            sampleList.add(samples[r]);
        }
        this.order = policy.approximation().order();
        this.signals = Set.copyOf(policy.signals());
        if (policy.firstBlocks() < 1) {
            throw new IllegalArgumentException("policy " + policy.name() + ": firstBlocks() is "
                    + policy.firstBlocks() + ", expected >= 1");
        }
        for (int l = 0; l < layers; l++) {
            Map<Part, CacheSlots> m = new EnumMap<>(Part.class);
            for (Part p : Part.values()) {
                m.put(p, new CacheSlots(order + 1, rows.size()));
            }
            slots.add(m);
        }
        previousModulated = new CacheSlots(1, rows.size());
        firstBlocksReference = new CacheSlots(1, rows.size());
        policy.reset();
        stats.begin(steps, layers, rows, sampleList);
    }

    public CachePolicy policy() {
        return policy;
    }

    public CacheStats stats() {
        return stats;
    }

    /** Runs the blocks for one step with the policy's decisions. */
    Tensor blocks(List<DiTBlock> blocks, Tensor x, Tensor t, Tensor y, Step step) {
        int i = step.index();
        if (i != nextStep || step.count() != steps || !step.rows().equals(branches) || blocks.size() != layers) {
            throw new IllegalStateException("cache session for " + steps + " steps x " + branches.size()
                    + " rows x " + layers + " layers expects step " + nextStep + ", got step " + i + " of "
                    + step.count() + " with " + step.rows().size() + " rows");
        }
        nextStep++;
        int rows = branches.size();
        int[] all = allRows();
        if (signals.contains(CacheSignal.MODULATED_INPUT_CHANGE)) {
            Tensor m = blocks.get(0).modulatedInput(x, t, y);
            if (i > 0) {
                double[] change = relativeL1(m, previousModulated.forecast(all, i, 0));
                for (int r = 0; r < rows; r++) {
                    policy.observe(CacheSignal.MODULATED_INPUT_CHANGE, query(i, 0, r), change[r]);
                }
            }
            previousModulated.update(m, all, i);
        }
        boolean firstSignal = signals.contains(CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE);
        int fn = policy.firstBlocks();
        Tensor x0 = x;
        for (int l = 0; l < layers; l++) {
            Tensor firstNow = null;
            if (firstSignal && l == fn) {
                firstNow = x.sub(x0);
                int[] withRef = Arrays.stream(all).filter(r -> firstBlocksReference.available(r) > 0).toArray();
                if (withRef.length > 0) {
                    Tensor now = withRef.length == rows ? firstNow : firstNow.index_select(0, index(withRef));
                    double[] change = relativeL1(now, firstBlocksReference.forecast(withRef, i, 0));
                    for (int k = 0; k < withRef.length; k++) {
                        policy.observe(CacheSignal.FIRST_BLOCKS_RESIDUAL_CHANGE, query(i, fn - 1, withRef[k]),
                                change[k]);
                    }
                }
            }
            Decision[] d = new Decision[rows];
            for (int r = 0; r < rows; r++) {
                d[r] = applicable(policy.decide(query(i, l, r)), l, r, i);
                stats.record(i, l, r, d[r]);
            }
            if (firstNow != null) {
                int[] computing = Arrays.stream(all).filter(r -> d[r] == Decision.COMPUTE).toArray();
                if (computing.length > 0) {
                    firstBlocksReference.update(computing.length == rows ? firstNow
                            : firstNow.index_select(0, index(computing)), computing, i);
                }
            }
            x = block(blocks.get(l), l, x, t, y, step, d);
        }
        return x;
    }

    private Tensor block(DiTBlock block, int l, Tensor x, Tensor t, Tensor y, Step step, Decision[] d) {
        Map<Part, CacheSlots> cache = slots.get(l);
        int rows = d.length;
        Map<Decision, int[]> groups = new EnumMap<>(Decision.class);
        for (Decision kind : Decision.values()) {
            int[] ids = java.util.stream.IntStream.range(0, rows).filter(r -> d[r] == kind).toArray();
            if (ids.length > 0) {
                groups.put(kind, ids);
            }
        }
        Tensor out = null;
        for (Map.Entry<Decision, int[]> g : groups.entrySet()) {
            int[] ids = g.getValue();
            boolean whole = ids.length == rows;
            Tensor idx = whole ? null : index(ids);
            Tensor xs = whole ? x : x.index_select(0, idx);
            Tensor ts = whole ? t : t.index_select(0, idx);
            Tensor ys = whole ? y : y.index_select(0, idx);
            int i = step.index();
            Tensor o;
            Tensor[] parts = new Tensor[2];
            switch (g.getKey()) {
                case COMPUTE -> {
                    o = block.forward(xs, ts, ys, step, ActivationProbe.NONE, null, null, parts);
                    cache.get(Part.RESIDUAL).update(o.sub(xs), ids, i);
                    cache.get(Part.ATTENTION).update(parts[0], ids, i);
                    cache.get(Part.MLP).update(parts[1], ids, i);
                }
                case REUSE -> o = xs.add(cache.get(Part.RESIDUAL).forecast(ids, i, order));
                case REUSE_ATTENTION -> {
                    o = block.forward(xs, ts, ys, step, ActivationProbe.NONE,
                            cache.get(Part.ATTENTION).forecast(ids, i, order), null, parts);
                    cache.get(Part.MLP).update(parts[1], ids, i);
                }
                case REUSE_MLP -> {
                    o = block.forward(xs, ts, ys, step, ActivationProbe.NONE, null,
                            cache.get(Part.MLP).forecast(ids, i, order), parts);
                    cache.get(Part.ATTENTION).update(parts[0], ids, i);
                }
                case REUSE_ATTENTION_AND_MLP -> o = block.forward(xs, ts, ys, step, ActivationProbe.NONE,
                        cache.get(Part.ATTENTION).forecast(ids, i, order), cache.get(Part.MLP).forecast(ids, i, order),
                        parts);
                default -> throw new IllegalStateException("unknown decision " + g.getKey());
            }
            if (whole) {
                return o;
            }
            if (out == null) {
                out = x.clone();
            }
            out.index_copy_(0, idx, o);
        }
        return out;
    }

    /** The decision, or COMPUTE where it needs a value this row has not cached (and at step 0). */
    private Decision applicable(Decision wanted, int l, int row, int step) {
        if (wanted == null) {
            throw new IllegalStateException("policy " + policy.name() + " returned no decision");
        }
        if (step == 0 || wanted == Decision.COMPUTE) {
            return Decision.COMPUTE;
        }
        Map<Part, CacheSlots> cache = slots.get(l);
        boolean ok = switch (wanted) {
            case REUSE -> cache.get(Part.RESIDUAL).available(row) > 0;
            case REUSE_ATTENTION -> cache.get(Part.ATTENTION).available(row) > 0;
            case REUSE_MLP -> cache.get(Part.MLP).available(row) > 0;
            case REUSE_ATTENTION_AND_MLP -> cache.get(Part.ATTENTION).available(row) > 0
                    && cache.get(Part.MLP).available(row) > 0;
            case COMPUTE -> true;
        };
        return ok ? wanted : Decision.COMPUTE;
    }

    private CachePolicy.Query query(int step, int layer, int row) {
        return new CachePolicy.Query(step, steps, layer, layers, branches.get(row), samples[row]);
    }

    private int[] allRows() {
        return java.util.stream.IntStream.range(0, branches.size()).toArray();
    }

    private static Tensor index(int[] rows) {
        return Tensors.fromLongs(Arrays.stream(rows).asLongStream().toArray(), rows.length);
    }

    /** Per row: {@code sum|a - b| / sum|b|} over all but the first dimension, accumulated in float64. */
    private static double[] relativeL1(Tensor a, Tensor b) {
        int n = (int) a.size(0);
        float[] av = Tensors.toFloats(a.contiguous());
        float[] bv = Tensors.toFloats(b.contiguous());
        int per = av.length / n;
        double[] out = new double[n];
        for (int r = 0; r < n; r++) {
            double num = 0;
            double den = 0;
            for (int e = r * per; e < (r + 1) * per; e++) {
                num += Math.abs((double) av[e] - bv[e]);
                den += Math.abs((double) bv[e]);
            }
            out[r] = num / den;
        }
        return out;
    }

    @Override
    public void close() {
        for (Map<Part, CacheSlots> m : slots) {
            m.values().forEach(CacheSlots::close);
        }
        previousModulated.close();
        firstBlocksReference.close();
    }
}
