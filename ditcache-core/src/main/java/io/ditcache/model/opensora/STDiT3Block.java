package io.ditcache.model.opensora;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockPart;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.Streams;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.Probes;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Open-Sora's {@code STDiT3Block}, spatial or temporal: {@code scale_shift_table [6, C]} plus the shared
 * {@code t_block} output gives shift, scale and gate of the attention and of the MLP; the attention ({@code attn})
 * runs on the modulated {@code norm1} (LayerNorm, no affine, eps 1e-6) over each frame's patches (spatial,
 * {@code [(B T), S, C]}) or over each patch's frames with the rotary embedding (temporal, {@code [(B S), T, C]}),
 * gated and added; the cross-attention ({@code cross_attn}) to the caption is added ungated; the MLP on the
 * modulated {@code norm2}, gated and added. The frame mask {@code x_mask} (video conditioning) is not supported.
 *
 * <p>Its probe sites see tensors of the whole sample, {@code [B, T*S, C]} in (t, s) order whatever the block's
 * arrangement: the observed batch is the sampling batch.
 */
final class STDiT3Block extends Module {
    private final int layer;
    private final boolean temporal;
    private final int dim;
    private final SelfAttention attn;
    private final CaptionAttention crossAttn;
    private final Mlp mlp;
    private final Tensor scaleShiftTable;

    /**
     * @param layer    the profile layer (2i spatial, 2i + 1 temporal)
     * @param temporal a temporal block
     */
    STDiT3Block(STDiT3Config c, int layer, boolean temporal) {
        this.layer = layer;
        this.temporal = temporal;
        this.dim = c.hiddenSize();
        register_parameter("scale_shift_table", torch.zeros(6, dim));
        attn = register_module("attn", new SelfAttention(dim, c.numHeads(), c.qkNorm()));
        crossAttn = register_module("cross_attn", new CaptionAttention(dim, c.numHeads()));
        mlp = register_module("mlp", new Mlp(dim, c.mlpHidden(), dim));
        scaleShiftTable = new Tensor(named_parameters(false).get(0).value());
    }

    int layer() {
        return layer;
    }

    boolean temporal() {
        return temporal;
    }

    /** What a forward takes beside its input: the shape, modulation, caption, mask and rotary frequencies. */
    record Inputs(long frames, long patches, Tensor t6, Tensor y, Tensor mask, Tensor freqs) {
        Inputs rows(io.ditcache.cache.Rows rows) {
            return new Inputs(frames, patches, rows.select(t6), rows.select(y), mask == null ? null
                    : rows.select(mask), freqs);
        }
    }

    /** This block as the cache runtime runs it, for a group of rows selected from the whole batch's inputs. */
    BlockCall cacheCall(Inputs in) {
        return BlockCall.of((rows, input, reused) -> {
            Tensor[] parts = new Tensor[3];
            Tensor out = forward(input.image(), in.rows(rows), null, ActivationProbe.NONE,
                    reused.get(BlockPart.SELF_ATTENTION), reused.get(BlockPart.CROSS_ATTENTION),
                    reused.get(BlockPart.FEED_FORWARD), parts);
            return new BlockOutput(Streams.of(out), Map.of(BlockPart.SELF_ATTENTION, parts[0],
                    BlockPart.CROSS_ATTENTION, parts[1], BlockPart.FEED_FORWARD, parts[2]));
        }, (rows, input) -> modulatedInput(input.image(), rows.select(in.t6())));
    }

    /**
     * The block, with optional reuse of its parts' outputs (each before its gate and residual add).
     *
     * @param x        {@code [B, T*S, C]}
     * @param step     the call, for the probe (may be null with {@link ActivationProbe#NONE})
     * @param selfOut  the attention output to use instead of computing it, or null
     * @param crossOut the cross-attention output to use instead of computing it, or null
     * @param mlpOut   the MLP output to use instead of computing it, or null
     * @param parts    if not null, receives the three parts' outputs (computed or given)
     */
    Tensor forward(Tensor x, Inputs in, Step step, ActivationProbe probe, Tensor selfOut, Tensor crossOut,
            Tensor mlpOut, Tensor[] parts) {
        TensorVector mod = modulation(in.t6());
        Tensor a = selfOut;
        Site modulated = Site.of(0, SiteKind.MODULATED_INPUT);
        if (a == null || (layer == 0 && probe.wants(modulated))) {
            Tensor h = Norms.modulate(Norms.layerNorm(x, 1e-6), mod.get(0), mod.get(1));
            if (layer == 0) {
                Probes.observe(probe, step, modulated, h);
            }
            if (a == null) {
                SelfAttention.Result r = attn.forward(arrange(h, in), temporal ? in.freqs() : null);
                Probes.observe(probe, step, Site.of(layer, SiteKind.K), restore(r.k(), in));
                Probes.observe(probe, step, Site.of(layer, SiteKind.V), restore(r.v(), in));
                a = restore(r.out(), in);
                Probes.observe(probe, step, Site.of(layer, SiteKind.ATTN_OUT), a);
            }
        }
        Tensor hidden = mod.get(2).mul(a).add(x);
        Tensor ca = crossOut != null ? crossOut : crossAttn.forward(hidden, in.y(), in.mask());
        hidden = hidden.add(ca);
        Tensor ff = mlpOut != null ? mlpOut
                : mlp.forward(Norms.modulate(Norms.layerNorm(hidden, 1e-6), mod.get(3), mod.get(4)));
        Probes.observe(probe, step, Site.of(layer, SiteKind.MLP_OUT), ff);
        Tensor out = mod.get(5).mul(ff).add(hidden);
        Probes.blockOutput(probe, step, layer, x, out);
        if (parts != null) {
            parts[0] = a;
            parts[1] = ca;
            parts[2] = ff;
        }
        return out;
    }

    /** The normalised, modulated input of the attention (TeaCache's signal at block 0). */
    Tensor modulatedInput(Tensor x, Tensor t6) {
        TensorVector mod = modulation(t6);
        return Norms.modulate(Norms.layerNorm(x, 1e-6), mod.get(0), mod.get(1));
    }

    /** {@code [B, T*S, C]} to the attention's sequences: {@code [(B T), S, C]} or {@code [(B S), T, C]}. */
    private Tensor arrange(Tensor h, Inputs in) {
        long b = h.size(0);
        if (temporal) {
            return h.view(b, in.frames(), in.patches(), dim).transpose(1, 2).reshape(b * in.patches(), in.frames(),
                    dim);
        }
        return h.reshape(b * in.frames(), in.patches(), dim);
    }

    /** The inverse of {@link #arrange}. */
    private Tensor restore(Tensor h, Inputs in) {
        long b = h.size(0) / (temporal ? in.patches() : in.frames());
        if (temporal) {
            return h.reshape(b, in.patches(), in.frames(), dim).transpose(1, 2).reshape(b, in.frames() * in.patches(),
                    dim);
        }
        return h.reshape(b, in.frames() * in.patches(), dim);
    }

    /** {@code scale_shift_table[None] + t6.reshape(B, 6, C)}, chunked: six {@code [B, 1, C]} vectors. */
    private TensorVector modulation(Tensor t6) {
        return scaleShiftTable.unsqueeze(0).add(t6.reshape(t6.size(0), 6, dim)).chunk(6, 1);
    }
}
