package io.ditcache.model.opensora;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The rotary embedding STDiT3's temporal attentions apply to q and k after their norms
 * ({@code rotary_embedding_torch.RotaryEmbedding(dim=head_dim).rotate_queries_or_keys}): frame {@code t} turns
 * each interleaved pair {@code (2k, 2k+1)} of a head by the angle {@code t * freqs[k]}, {@code freqs} being the
 * model's {@code rope.freqs} ({@code 10000^(-2k / head_dim)} when trained as published). Frame 0 is not turned,
 * so one frame is left as it is.
 */
final class TemporalRope {
    private TemporalRope() {
    }

    /** The default {@code rope.freqs} of a head of {@code headDim} channels. */
    static float[] defaultFreqs(int headDim) {
        float[] f = new float[headDim / 2];
        for (int k = 0; k < f.length; k++) {
            f[k] = (float) (1.0 / Math.pow(10000, (2.0 * k) / headDim));
        }
        return f;
    }

    /**
     * @param x     {@code [N, heads, T, D]}
     * @param freqs {@code [D / 2]}
     * @return {@code x} rotated along T, in x's dtype
     */
    static Tensor rotate(Tensor x, Tensor freqs) {
        long frames = x.size(2);
        long d = x.size(3);
        Tensor pos = torch.arange(new Scalar(0), new Scalar(frames), new TensorOptions(ScalarType.Float));
        Tensor angles = pos.unsqueeze(1).mul(freqs.to(ScalarType.Float).unsqueeze(0)); // [T, D/2]
        ScalarType type = x.scalar_type().intern();
        Tensor cos = angles.cos().to(type);
        Tensor sin = angles.sin().to(type);
        Tensor pairs = x.reshape(x.size(0), x.size(1), frames, d / 2, 2);
        Tensor a = pairs.select(4, 0);
        Tensor b = pairs.select(4, 1);
        Tensor ra = a.mul(cos).sub(b.mul(sin));
        Tensor rb = b.mul(cos).add(a.mul(sin));
        return torch.stack(new TensorVector(ra, rb), 4).reshape(x.size(0), x.size(1), frames, d);
    }
}
