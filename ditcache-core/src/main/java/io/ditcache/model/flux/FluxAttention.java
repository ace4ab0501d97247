package io.ditcache.model.flux;

import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.RmsNorm;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code FluxAttention} with its keys: q/k/v projections with biases, RMS norms (eps 1e-6, affine) on
 * each head of q and k; in double blocks also the context's projections ({@code add_*_proj}, {@code norm_added_*})
 * and both output projections ({@code to_out.0}, {@code to_add_out}); single blocks ({@code pre_only}) have no
 * output projection. The blocks run the steps one by one so that they can report K and V between them.
 */
final class FluxAttention extends Module {
    private static final double EPS = 1e-6;
    private final int heads;
    private final int headDim;
    private final RmsNorm normQ;
    private final RmsNorm normK;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module toOutList;
    private final LinearImpl toOut;
    private final RmsNorm normAddedQ;
    private final RmsNorm normAddedK;
    private final LinearImpl addQ;
    private final LinearImpl addK;
    private final LinearImpl addV;
    private final LinearImpl toAddOut;

    /**
     * A stream's projections: q and k normalised per head ({@code [N, S, H, D]}), v as projected
     * ({@code [N, S, H*D]}).
     */
    record Projected(Tensor q, Tensor k, Tensor v) {
        /** K with heads merged, {@code [N, S, H*D]}: the K site (after the norm, before RoPE). */
        Tensor mergedK() {
            return k.flatten(2, 3);
        }
    }

    /**
     * @param joint double block: the context stream's projections and both output projections; otherwise a
     *              single block's attention without an output projection
     */
    FluxAttention(int dim, int heads, int headDim, boolean joint) {
        this.heads = heads;
        this.headDim = headDim;
        normQ = register_module("norm_q", new RmsNorm(headDim, EPS));
        normK = register_module("norm_k", new RmsNorm(headDim, EPS));
        toQ = register_module("to_q", Linears.of(dim, dim, true));
        toK = register_module("to_k", Linears.of(dim, dim, true));
        toV = register_module("to_v", Linears.of(dim, dim, true));
        if (joint) {
            toOutList = register_module("to_out", new Module());
            toOut = toOutList.register_module("0", Linears.of(dim, dim, true));
            normAddedQ = register_module("norm_added_q", new RmsNorm(headDim, EPS));
            normAddedK = register_module("norm_added_k", new RmsNorm(headDim, EPS));
            addQ = register_module("add_q_proj", Linears.of(dim, dim, true));
            addK = register_module("add_k_proj", Linears.of(dim, dim, true));
            addV = register_module("add_v_proj", Linears.of(dim, dim, true));
            toAddOut = register_module("to_add_out", Linears.of(dim, dim, true));
        } else {
            toOutList = null;
            toOut = null;
            normAddedQ = null;
            normAddedK = null;
            addQ = null;
            addK = null;
            addV = null;
            toAddOut = null;
        }
    }

    /** The (image, or single-block sequence) stream's projections. */
    Projected project(Tensor x) {
        return new Projected(normQ.forward(split(toQ.forward(x))), normK.forward(split(toK.forward(x))),
                toV.forward(x));
    }

    /** The context stream's projections (double blocks). */
    Projected projectContext(Tensor c) {
        return new Projected(normAddedQ.forward(split(addQ.forward(c))), normAddedK.forward(split(addK.forward(c))),
                addV.forward(c));
    }

    /**
     * Attention over {@code first} then {@code second}'s tokens (FLUX's order: [context; image]), with RoPE on q
     * and k; {@code first} may be null (a single block's one sequence).
     *
     * @return the merged-head output {@code [N, S, H*D]} over the concatenated tokens
     */
    Tensor attend(Projected first, Projected second, FluxRope rope) {
        Tensor q = second.q();
        Tensor k = second.k();
        Tensor v = split(second.v());
        if (first != null) {
            q = torch.cat(new TensorVector(first.q(), q), 1);
            k = torch.cat(new TensorVector(first.k(), k), 1);
            v = torch.cat(new TensorVector(split(first.v()), v), 1);
        }
        q = rope.apply(q.transpose(1, 2));
        k = rope.apply(k.transpose(1, 2));
        return Attention.merge(Attention.sdpaHeads(q, k, v.transpose(1, 2), null));
    }

    /** The image stream's output projection ({@code to_out.0}). */
    Tensor out(Tensor attention) {
        return toOut.forward(attention.contiguous());
    }

    /** The context stream's output projection ({@code to_add_out}). */
    Tensor contextOut(Tensor attention) {
        return toAddOut.forward(attention.contiguous());
    }

    /** {@code [N, S, H*D]} to {@code [N, S, H, D]}. */
    private Tensor split(Tensor t) {
        return t.view(t.size(0), t.size(1), heads, headDim);
    }
}
