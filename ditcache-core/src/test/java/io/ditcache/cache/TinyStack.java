package io.ditcache.cache;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.internal.Tensors;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A transformer-like stack from plain libtorch ops, none of ditcache's model classes: plain blocks 0, 1 and 3
 * (an "attention" part {@code tanh(mod(x) Wa)} and a "feed-forward" part {@code sigmoid(h Wm)}, each gated by a
 * per-row conditioning {@code g}), and a joint block 2 that also updates a context stream, its attention halves
 * mixing the two streams. Enough to drive the cache runtime through every kind of decision.
 */
final class TinyStack {
    static final int TOKENS = 4;
    static final int CONTEXT_TOKENS = 2;
    static final int DIM = 3;
    static final int JOINT = 2;
    static final BlockLayout LAYOUT = new BlockLayout(List.of(Block.plain(0, 1), Block.plain(1, 1),
            new Block(2, BlockGroup.JOINT, EnumSet.allOf(BlockPart.class).stream()
                    .filter(p -> p != BlockPart.CROSS_ATTENTION).collect(java.util.stream.Collectors
                            .toCollection(() -> EnumSet.noneOf(BlockPart.class))), true, true, 2),
            Block.plain(3, 1)));

    private final Tensor[] wa = new Tensor[4];
    private final Tensor[] wm = new Tensor[4];
    private final Tensor wc;
    private final Tensor wcm;

    TinyStack(long seed) {
        Random random = new Random(seed);
        for (int l = 0; l < 4; l++) {
            wa[l] = weights(random);
            wm[l] = weights(random);
        }
        wc = weights(random);
        wcm = weights(random);
    }

    private static Tensor weights(Random random) {
        float[] w = new float[DIM * DIM];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.7);
        }
        Tensor t = Tensors.fromFloats(w, DIM, DIM);
        t.retainReference();
        return t;
    }

    /** Random {@code [rows, tokens, DIM]} values. */
    static Tensor random(Random random, int rows, int tokens) {
        float[] v = new float[rows * tokens * DIM];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensors.fromFloats(v, rows, tokens, DIM);
    }

    /** The per-row conditioning {@code [rows, 1, 1]} of a timestep. */
    static Tensor conditioning(double timestep, int rows) {
        float[] g = new float[rows];
        for (int r = 0; r < rows; r++) {
            g[r] = (float) (0.3 + timestep / 1000 + 0.1 * r);
        }
        return Tensors.fromFloats(g, rows, 1, 1);
    }

    /** Block {@code l}'s modulated input. */
    Tensor modulated(Tensor x, Tensor g) {
        return x.mul(g.add(Tensors.scalar(1)));
    }

    /** Block {@code l} on {@code input}, taking the parts in {@code reused} as given. */
    BlockOutput run(int l, Streams input, Tensor g, Map<BlockPart, Tensor> reused) {
        Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
        Tensor x = input.image();
        if (l != JOINT) {
            Tensor a = part(reused, parts, BlockPart.SELF_ATTENTION, () -> torch.tanh(modulated(x, g).matmul(wa[l])));
            Tensor h = x.add(g.mul(a));
            Tensor m = part(reused, parts, BlockPart.FEED_FORWARD, () -> torch.sigmoid(h.matmul(wm[l])));
            return new BlockOutput(Streams.of(h.add(g.mul(m))), parts);
        }
        Tensor c = input.context();
        Tensor a = part(reused, parts, BlockPart.SELF_ATTENTION,
                () -> torch.tanh(modulated(x, g).matmul(wa[l]).add(tokenMean(c))));
        Tensor ac = part(reused, parts, BlockPart.CONTEXT_ATTENTION,
                () -> torch.tanh(c.matmul(wc).add(tokenMean(x))));
        Tensor h = x.add(g.mul(a));
        Tensor hc = c.add(g.mul(ac));
        Tensor m = part(reused, parts, BlockPart.FEED_FORWARD, () -> torch.sigmoid(h.matmul(wm[l])));
        Tensor mc = part(reused, parts, BlockPart.CONTEXT_FEED_FORWARD, () -> torch.sigmoid(hc.matmul(wcm)));
        return new BlockOutput(Streams.joint(h.add(g.mul(m)), hc.add(g.mul(mc))), parts);
    }

    private static Tensor tokenMean(Tensor t) {
        return t.mean(new long[] {1}, true, new ScalarTypeOptional());
    }

    private static Tensor part(Map<BlockPart, Tensor> reused, Map<BlockPart, Tensor> parts, BlockPart p,
            java.util.function.Supplier<Tensor> compute) {
        Tensor v = reused.containsKey(p) ? reused.get(p) : compute.get();
        parts.put(p, v);
        return v;
    }

    /** The block as the runtime calls it, with the rows' conditioning. */
    BlockCall call(int l, Tensor g) {
        return BlockCall.of((rows, input, reused) -> run(l, input, rows.select(g), reused),
                (rows, input) -> modulated(input.image(), rows.select(g)));
    }

    /** The whole stack without a cache: image output of block 3 (the joint block's context output dropped). */
    Tensor forward(Tensor x, Tensor context, Tensor g) {
        Streams s = Streams.of(x);
        for (int l = 0; l < 4; l++) {
            s = run(l, l == JOINT ? Streams.joint(s.image(), context) : Streams.of(s.image()), g, Map.of()).output();
        }
        return s.image();
    }

    /** The whole stack through {@code runtime}. */
    Tensor forward(CacheRuntime runtime, io.ditcache.Step step, Tensor x, Tensor context, Tensor g) {
        Streams s = Streams.of(x);
        for (int l = 0; l < 4; l++) {
            s = runtime.block(step, l, l == JOINT ? Streams.joint(s.image(), context) : Streams.of(s.image()),
                    call(l, g));
        }
        return s.image();
    }
}
