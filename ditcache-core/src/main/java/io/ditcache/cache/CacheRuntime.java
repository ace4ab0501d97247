package io.ditcache.cache;

import io.ditcache.ActivationProbe;
import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import io.ditcache.CacheSignal;
import io.ditcache.CacheStats;
import io.ditcache.SignalRequest;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.internal.Tensors;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.stream.IntStream;
import org.bytedeco.pytorch.Tensor;

/**
 * One cached sampling run of any stack, model-agnostic: a stack wraps each block call with {@link #block}, in
 * execution order, every step. Per step and block the runtime asks the {@link CachePolicy} for every row (a sample
 * of a guidance branch), measures the signals the policy asked for at that block, groups rows by decision and runs
 * the rows that run the block as one batch through the stack's {@link BlockCall}, with the parts they reuse; rows
 * that skip the block get their input plus their cached residual (or their cached output, for a block that is a
 * whole model). It keeps per-row slots with the history the policy's {@link io.ditcache.Approximation} needs,
 * records what ran in {@link CacheStats}, and hands each block's merged output and residual to an
 * {@link ActivationProbe}, so that a cached trajectory can be profiled.
 *
 * <p>Whatever the policy answers, step 0 computes everything, and a row reuses only what it has cached: a decision
 * that needs a missing value becomes {@link Decision#COMPUTE}. When every row computes a block, the block runs on
 * the whole batch exactly as without a cache, so a policy that never reuses samples bit for bit what uncached
 * sampling does.
 *
 * <p>A denoiser called as one opaque model per step uses {@link BlockLayout#wholeModel()} and {@link #step}: the
 * same runtime then caches whole steps (step masks, thresholds, MagCache ratios).
 *
 * <p>Not thread-safe. Close it after the run to free the cached tensors.
 */
public final class CacheRuntime implements AutoCloseable {
    private final CachePolicy policy;
    private final CacheStats stats;
    private final BlockLayout layout;
    private final int steps;
    private final List<Branch> branches;
    private final int[] samples;
    /** The policy's own approximation order, for decisions without one. */
    private final int order;
    /** What the policy's declared decisions need: whole-block slots, part slots, and each one's history. */
    private final Declared[] declared;
    private final ActivationProbe probe;
    private final Rows allRows;
    /** Per block: the signals requested there. */
    private final List<List<SignalRequest>> modulatedRequests = new ArrayList<>();
    private final List<List<SignalRequest>> residualRequests = new ArrayList<>();
    /** Per block: image residual (or output, for a non-residual block), context residual, parts. */
    private final CacheSlots[] wholeImage;
    private final CacheSlots[] wholeContext;
    private final List<Map<BlockPart, CacheSlots>> parts = new ArrayList<>();
    /** Per signal request: the previous step's modulated input, or the residual reference. */
    private final Map<SignalRequest, CacheSlots> signalSlots = new LinkedHashMap<>();
    /** Per residual request: the context stream's reference, for joint blocks. */
    private final Map<SignalRequest, CacheSlots> contextReferences = new LinkedHashMap<>();
    /** Residual signals measured at the previous block, waiting for this block's decisions to set references. */
    private final List<PendingReference> pending = new ArrayList<>();
    private int nextStep;
    private int nextBlock;
    private Step current;
    private Streams first;
    private boolean closed;
    /** The cache signals' relative L1 changes (on the device's distance backend where there is one). */
    private final RelativeChange relativeChange = new RelativeChange();

    private record PendingReference(SignalRequest request, Streams residual) {
    }

    /**
     * A runtime without a probe.
     *
     * @param policy decides; reset here
     * @param stats  receives the applied decisions
     * @param layout the stack's blocks
     * @param steps  calls in the run
     * @param rows   the branch of each batch row (as in {@link Step#rows()})
     */
    public CacheRuntime(CachePolicy policy, CacheStats stats, BlockLayout layout, int steps, List<Branch> rows) {
        this(policy, stats, layout, steps, rows, ActivationProbe.NONE);
    }

    /**
     * @param probe receives, per block and step, {@link SiteKind#BLOCK_OUT} and (residual blocks)
     *              {@link SiteKind#BLOCK_RESIDUAL} of the whole batch as cached sampling produced them, image
     *              stream and ({@link TokenStream#TEXT}) context stream
     */
    public CacheRuntime(CachePolicy policy, CacheStats stats, BlockLayout layout, int steps, List<Branch> rows,
            ActivationProbe probe) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.stats = Objects.requireNonNull(stats, "stats");
        this.layout = Objects.requireNonNull(layout, "layout");
        this.probe = Objects.requireNonNull(probe, "probe");
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        this.steps = steps;
        Step rowsOf = new Step(0, 1, 0, rows);
        this.branches = rowsOf.rows();
        this.samples = new int[branches.size()];
        List<Integer> sampleList = new ArrayList<>();
        for (int r = 0; r < samples.length; r++) {
            samples[r] = rowsOf.sampleOf(r);
            sampleList.add(samples[r]);
        }
        this.allRows = Rows.all(branches.size());
        this.order = policy.approximation().order();
        int n = layout.size();
        wholeImage = new CacheSlots[n];
        wholeContext = new CacheSlots[n];
        declared = new Declared[n];
        for (int b = 0; b < n; b++) {
            Declared c = Declared.of(policy.decisions(layout.block(b)), order);
            declared[b] = c;
            if (c.whole()) {
                wholeImage[b] = new CacheSlots(c.wholeHistory(), branches.size());
                wholeContext[b] = new CacheSlots(c.wholeHistory(), branches.size());
            }
            Map<BlockPart, CacheSlots> m = new EnumMap<>(BlockPart.class);
            for (BlockPart p : layout.block(b).parts()) {
                if (c.parts().contains(p)) {
                    m.put(p, new CacheSlots(c.partHistory(), branches.size()));
                }
            }
            parts.add(m);
            modulatedRequests.add(new ArrayList<>());
            residualRequests.add(new ArrayList<>());
        }
        for (SignalRequest s : policy.signals()) {
            if (s.block() >= n) {
                continue; // documented: requests beyond the model are not measured
            }
            (s.kind() == CacheSignal.MODULATED_INPUT_CHANGE ? modulatedRequests : residualRequests).get(s.block())
                    .add(s);
            signalSlots.put(s, new CacheSlots(1, branches.size()));
        }
        policy.reset();
        stats.begin(steps, layout, branches, sampleList);
    }

    public CachePolicy policy() {
        return policy;
    }

    public CacheStats stats() {
        return stats;
    }

    public BlockLayout layout() {
        return layout;
    }

    /**
     * Runs block {@code index} of {@code step} for every row as the policy decides. Call it for blocks
     * {@code 0 .. layout.size()-1} in order, every step in order.
     *
     * @param step  the call (its index, count and rows must match the run)
     * @param index the block, in execution order
     * @param input the block's input streams, all rows
     * @param call  runs the block for a group of rows
     * @return the block's output streams, all rows
     */
    public Streams block(Step step, int index, Streams input, BlockCall call) {
        checkOrder(step, index);
        Block block = layout.block(index);
        int i = step.index();
        int rows = branches.size();
        if (index == 0) {
            first = input;
        }
        for (SignalRequest s : modulatedRequests.get(index)) {
            CacheSlots previous = signalSlots.get(s);
            Tensor m = call.modulatedInput(allRows, input);
            if (i > 0 && previous.available(0) > 0) {
                double[] change = relativeChange.of(Streams.of(m), Streams.of(previous.forecast(allRows.idsView(), i,
                        0)));
                for (int r = 0; r < rows; r++) {
                    policy.observe(s, query(i, index, r), change[r]);
                }
            }
            previous.update(m, allRows.idsView(), i);
        }
        Decision[] d = new Decision[rows];
        for (int r = 0; r < rows; r++) {
            d[r] = applicable(policy.decide(query(i, index, r)), block, r, i);
            stats.record(i, index, r, d[r]);
        }
        setPendingReferences(d, i);
        Streams out = run(block, input, call, d, i);
        for (SignalRequest s : residualRequests.get(index)) {
            Streams residual = minus(out, first);
            CacheSlots reference = signalSlots.get(s);
            int[] withRef = IntStream.range(0, rows).filter(r -> reference.available(r) > 0).toArray();
            if (withRef.length > 0) {
                Rows ref = new Rows(withRef, rows);
                double[] change = relativeL1(residual.select(ref), Streams.of(reference.forecast(withRef, i, 0)),
                        contextReference(s), withRef, i);
                for (int k = 0; k < withRef.length; k++) {
                    policy.observe(s, query(i, index, withRef[k]), change[k]);
                }
            }
            pending.add(new PendingReference(s, residual));
        }
        if (index == layout.size() - 1) {
            setPendingReferences(d, i); // the last block's own decisions
            current = null;
        }
        observe(step, index, block, input, out);
        return out;
    }

    /** {@link #block(Step, int, Streams, BlockCall)} of an image-only block: its output. */
    public Tensor block(Step step, int index, Tensor input, BlockCall call) {
        return block(step, index, Streams.of(input), call).image();
    }

    /**
     * One whole step of an opaque denoiser ({@link BlockLayout#wholeModel()}): the model's output, computed by
     * {@code model} or reused as the policy decides.
     *
     * @param model runs the model for a group of rows (their inputs) and returns their outputs
     */
    public Tensor step(Step step, Tensor input, BiFunction<Rows, Tensor, Tensor> model) {
        return step(step, input, model, (rows, in) -> {
            throw new UnsupportedOperationException("a policy asks for MODULATED_INPUT_CHANGE of the whole model: "
                    + "give CacheRuntime.step a signal (e.g. the timestep-scaled input)");
        });
    }

    /**
     * {@link #step(Step, Tensor, BiFunction)} with the tensor whose change stands for the modulated input
     * ({@link CacheSignal#MODULATED_INPUT_CHANGE} at block 0: TeaCache's signal) of an opaque model, e.g. its
     * timestep-scaled input or a timestep embedding it exposes.
     *
     * @param signal from the rows and their inputs, the signal tensor
     */
    public Tensor step(Step step, Tensor input, BiFunction<Rows, Tensor, Tensor> model,
            BiFunction<Rows, Tensor, Tensor> signal) {
        if (layout.size() != 1) {
            throw new IllegalStateException("step() caches a whole model, but the layout has " + layout.size()
                    + " blocks: call block() for each");
        }
        BlockCall call = BlockCall.of((rows, in, reused) -> BlockOutput.of(Streams.of(model.apply(rows,
                in.image()))), (rows, in) -> signal.apply(rows, in.image()));
        return block(step, 0, Streams.of(input), call).image();
    }

    private void checkOrder(Step step, int index) {
        if (closed) {
            throw new IllegalStateException("cache runtime used after close");
        }
        boolean ok = index == 0 ? step.index() == nextStep && step.count() == steps && step.rows().equals(branches)
                : step.equals(current) && index == nextBlock;
        if (!ok) {
            throw new IllegalStateException("cache runtime for " + steps + " steps x " + branches.size() + " rows x "
                    + layout.size() + " blocks expects " + (current == null ? "block 0 of step " + nextStep
                    : "block " + nextBlock + " of step " + current.index()) + ", got block " + index + " of step "
                    + step.index() + " of " + step.count() + " with " + step.rows().size() + " rows");
        }
        if (index == 0) {
            current = step;
            nextStep++;
        }
        nextBlock = index + 1;
    }

    private Streams run(Block block, Streams input, BlockCall call, Decision[] d, int i) {
        int b = block.index();
        int rows = d.length;
        Map<Decision, List<Integer>> groups = new LinkedHashMap<>();
        for (int r = 0; r < rows; r++) {
            groups.computeIfAbsent(d[r], k -> new ArrayList<>()).add(r);
        }
        Tensor outImage = null;
        Tensor outContext = null;
        for (Map.Entry<Decision, List<Integer>> g : groups.entrySet()) {
            int[] ids = g.getValue().stream().mapToInt(Integer::intValue).toArray();
            Rows group = new Rows(ids, rows);
            Streams xs = input.select(group);
            Decision decision = g.getKey();
            Streams o;
            int approximation = decision.order(order);
            if (decision.wholeBlock()) {
                Tensor image = wholeImage[b].forecast(ids, i, approximation);
                Tensor context = input.hasContext() && wholeContext[b].available(ids[0]) > 0
                        ? wholeContext[b].forecast(ids, i, approximation) : null;
                o = block.residual() ? new Streams(xs.image().add(image), context == null ? null
                        : xs.context().add(context)) : new Streams(image, context);
            } else {
                Map<BlockPart, Tensor> given = new EnumMap<>(BlockPart.class);
                for (BlockPart p : decision.reused()) {
                    given.put(p, parts.get(b).get(p).forecast(ids, i, approximation));
                }
                BlockOutput result = call.run(group, xs, given);
                o = result.output();
                result.parts().forEach((p, v) -> {
                    CacheSlots slots = parts.get(b).get(p);
                    if (slots != null && !given.containsKey(p)) {
                        slots.update(v, ids, i);
                    }
                });
                if (decision.computes() && wholeImage[b] != null) {
                    wholeImage[b].update(block.residual() ? o.image().sub(xs.image()) : o.image(), ids, i);
                    if (o.hasContext()) {
                        wholeContext[b].update(block.residual() && xs.hasContext() ? o.context().sub(xs.context())
                                : o.context(), ids, i);
                    }
                }
            }
            if (group.all()) {
                return o;
            }
            Tensor idx = group.index(o.image());
            if (outImage == null) {
                outImage = o.image().new_zeros(withRows(o.image(), rows));
                outContext = o.hasContext() ? o.context().new_zeros(withRows(o.context(), rows)) : null;
            }
            outImage.index_copy_(0, idx, o.image());
            if (outContext != null) {
                outContext.index_copy_(0, idx, o.context());
            }
        }
        return new Streams(outImage, outContext);
    }

    private static long[] withRows(Tensor t, int rows) {
        long[] shape = Tensors.shape(t);
        shape[0] = rows;
        return shape;
    }

    /** The decision for {@code block}, or COMPUTE where it needs a value this row has not cached (and at step 0). */
    private Decision applicable(Decision wanted, Block block, int row, int step) {
        if (wanted == null) {
            throw new IllegalStateException("policy " + policy.name() + " returned no decision");
        }
        checkDeclared(wanted, block);
        Decision d = wanted.on(block);
        if (step == 0 || d.computes()) {
            return Decision.COMPUTE;
        }
        int b = block.index();
        if (d.wholeBlock()) {
            return wholeImage[b].available(row) > 0 ? d : Decision.COMPUTE;
        }
        for (BlockPart p : d.reused()) {
            if (parts.get(b).get(p).available(row) == 0) {
                return Decision.COMPUTE;
            }
        }
        return d;
    }

    /** Refuses a decision the policy's {@link CachePolicy#decisions()} do not cover: no slots were kept for it. */
    private void checkDeclared(Decision wanted, Block block) {
        Decision d = wanted.on(block);
        if (d.computes()) {
            return;
        }
        Declared c = declared[block.index()];
        int o = d.order(order);
        boolean ok = d.wholeBlock() ? c.whole() && o < c.wholeHistory()
                : c.parts().containsAll(d.reused()) && o < c.partHistory();
        if (!ok) {
            throw new IllegalStateException("policy " + policy.name() + " returned " + d + " for block "
                    + block.index() + ", which its declared decisions " + policy.decisions(block) + " do not cover "
                    + "(the runtime keeps no cached values for it): declare it in decisions()");
        }
    }

    /** What the decisions a policy declares for one block need kept: whole-block slots, part slots, histories. */
    private record Declared(boolean whole, java.util.Set<BlockPart> parts, int wholeHistory, int partHistory) {
        static Declared of(java.util.Set<Decision> decisions, int policyOrder) {
            boolean whole = false;
            java.util.Set<BlockPart> parts = java.util.EnumSet.noneOf(BlockPart.class);
            int wholeOrder = 0;
            int partOrder = 0;
            for (Decision d : Objects.requireNonNull(decisions, "policy decisions")) {
                if (d.wholeBlock()) {
                    whole = true;
                    wholeOrder = Math.max(wholeOrder, d.order(policyOrder));
                } else if (!d.reused().isEmpty()) {
                    parts.addAll(d.reused());
                    partOrder = Math.max(partOrder, d.order(policyOrder));
                }
            }
            return new Declared(whole, parts, wholeOrder + 1, partOrder + 1);
        }
    }

    /**
     * The cached values this runtime holds now: the bytes of every slot tensor (block residuals, parts, signal
     * references). Only what the policy's declared decisions reuse is ever kept.
     */
    public long cachedBytes() {
        long n = 0;
        for (int b = 0; b < wholeImage.length; b++) {
            n += wholeImage[b] == null ? 0 : wholeImage[b].bytes() + wholeContext[b].bytes();
            for (CacheSlots s : parts.get(b).values()) {
                n += s.bytes();
            }
        }
        for (CacheSlots s : signalSlots.values()) {
            n += s.bytes();
        }
        for (CacheSlots s : contextReferences.values()) {
            n += s.bytes();
        }
        return n;
    }

    /** How many cache points (block residuals per stream, parts) this runtime keeps slots for. */
    public int cachePoints() {
        int n = 0;
        for (int b = 0; b < wholeImage.length; b++) {
            n += (wholeImage[b] == null ? 0 : 2) + parts.get(b).size();
        }
        return n;
    }

    /** Sets the residual references measured at the previous block for the rows that compute this one. */
    private void setPendingReferences(Decision[] d, int step) {
        if (pending.isEmpty()) {
            return;
        }
        int[] computing = IntStream.range(0, d.length).filter(r -> d[r].computes()).toArray();
        if (computing.length > 0) {
            Rows rows = new Rows(computing, d.length);
            for (PendingReference p : pending) {
                Streams r = p.residual().select(rows);
                signalSlots.get(p.request()).update(r.image(), computing, step);
                if (r.hasContext()) {
                    contextSlots(p.request()).update(r.context(), computing, step);
                }
            }
        }
        pending.clear();
    }

    private CacheSlots contextSlots(SignalRequest s) {
        return contextReferences.computeIfAbsent(s, k -> new CacheSlots(1, branches.size()));
    }

    private CacheSlots contextReference(SignalRequest s) {
        return contextReferences.get(s);
    }

    private void observe(Step step, int index, Block block, Streams input, Streams out) {
        if (probe == ActivationProbe.NONE) {
            return;
        }
        observe(step, new Site(index, SiteKind.BLOCK_OUT, TokenStream.IMAGE), out.image());
        if (block.residual()) {
            Site residual = new Site(index, SiteKind.BLOCK_RESIDUAL, TokenStream.IMAGE);
            if (probe.wants(residual)) {
                probe.observeResidual(step, residual, out.image(), input.image());
            }
        }
        if (out.hasContext()) {
            observe(step, new Site(index, SiteKind.BLOCK_OUT, TokenStream.TEXT), out.context());
            Site residual = new Site(index, SiteKind.BLOCK_RESIDUAL, TokenStream.TEXT);
            if (block.residual() && input.hasContext() && probe.wants(residual)) {
                probe.observeResidual(step, residual, out.context(), input.context());
            }
        }
    }

    private void observe(Step step, Site site, Tensor value) {
        if (probe.wants(site)) {
            probe.observe(step, site, value);
        }
    }

    private CachePolicy.Query query(int step, int layer, int row) {
        return new CachePolicy.Query(step, steps, current.timestep(), layout, layer, branches.get(row), samples[row]);
    }

    private static Streams minus(Streams a, Streams b) {
        if (!java.util.Arrays.equals(Tensors.shape(a.image()), Tensors.shape(b.image()))) {
            throw new IllegalStateException("FIRST_BLOCKS_RESIDUAL_CHANGE: the block's image output has shape "
                    + Tensors.shapeString(a.image()) + ", the first block's input " + Tensors.shapeString(b.image())
                    + "; the combined residual needs the same shape");
        }
        Tensor context = a.hasContext() && b.hasContext() ? a.context().sub(b.context()) : null;
        return new Streams(a.image().sub(b.image()), context);
    }

    /** {@link RelativeChange#of} with the context reference of {@code rows}, where one is kept. */
    private double[] relativeL1(Streams now, Streams reference, CacheSlots contextReference, int[] rows, int step) {
        if (now.hasContext() && contextReference != null && contextReference.available(rows[0]) > 0) {
            return relativeChange.of(now, new Streams(reference.image(), contextReference.forecast(rows, step, 0)));
        }
        return relativeChange.of(Streams.of(now.image()), reference);
    }

    /** Frees the cached tensors; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int b = 0; b < wholeImage.length; b++) {
            if (wholeImage[b] != null) {
                wholeImage[b].close();
                wholeContext[b].close();
            }
            parts.get(b).values().forEach(CacheSlots::close);
        }
        signalSlots.values().forEach(CacheSlots::close);
        relativeChange.close();
        contextReferences.values().forEach(CacheSlots::close);
    }
}
