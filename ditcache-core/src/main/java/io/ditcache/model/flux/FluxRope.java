package io.ditcache.model.flux;

import io.ditcache.internal.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * FLUX's rotary position embedding (diffusers' {@code FluxPosEmbed}, theta 10000): per position axis {@code i} with
 * {@code a_i} channels, angles {@code pos * theta^(-2j / a_i)} for {@code j < a_i / 2}, computed in float64 from the
 * float32 ids and cast to float32, each cosine and sine repeated for an interleaved (real, imaginary) pair; the axes
 * are concatenated to {@code head_dim} channels.
 *
 * @param cos {@code [S, head_dim]} float32
 * @param sin {@code [S, head_dim]} float32
 */
record FluxRope(Tensor cos, Tensor sin) {
    private static final double THETA = 10000;

    /**
     * The embedding of {@code ids} ({@code [S, axes]}: {@code cat(txt_ids, img_ids)}).
     *
     * @param axesDims channels per axis, one per column of {@code ids}
     */
    static FluxRope of(Tensor ids, List<Integer> axesDims) {
        Tensor pos = ids.to(ScalarType.Float).to(ScalarType.Double);
        TensorVector cosParts = new TensorVector();
        TensorVector sinParts = new TensorVector();
        for (int i = 0; i < axesDims.size(); i++) {
            int dim = axesDims.get(i);
            Tensor exponent = torch.arange(new Scalar(0), new Scalar(dim), new Scalar(2),
                    new TensorOptions(ScalarType.Double)).div(new Scalar((double) dim));
            Tensor freqs = torch.pow(new Scalar(THETA), exponent).reciprocal();
            Tensor angles = torch.outer(pos.select(1, i).contiguous(), freqs);
            cosParts.push_back(pairwise(angles.cos()).to(ScalarType.Float));
            sinParts.push_back(pairwise(angles.sin()).to(ScalarType.Float));
        }
        return new FluxRope(torch.cat(cosParts, 1), torch.cat(sinParts, 1));
    }

    /** Each column twice, side by side: {@code repeat_interleave(2, dim=1)}. */
    private static Tensor pairwise(Tensor t) {
        return torch.stack(new TensorVector(t, t), 2).flatten(1, 2);
    }

    /**
     * Rotates {@code x} ({@code [N, H, S, D]}, split heads): {@code x * cos + rot(x) * sin}, where {@code rot} maps
     * each channel pair {@code (r, i)} to {@code (-i, r)} (diffusers' {@code use_real_unbind_dim=-1}).
     */
    Tensor apply(Tensor x) {
        long[] s = Tensors.shape(x);
        Tensor pairs = x.reshape(s[0], s[1], s[2], s[3] / 2, 2);
        Tensor real = pairs.select(4, 0);
        Tensor imag = pairs.select(4, 1);
        Tensor rotated = torch.stack(new TensorVector(imag.neg(), real), 4).flatten(3, 4);
        // in float32 whatever x's dtype, then back, as diffusers' apply_rotary_emb
        return x.to(ScalarType.Float).mul(cos).add(rotated.to(ScalarType.Float).mul(sin)).to(x.scalar_type().intern());
    }
}
