package io.ditcache.model.mochi;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code MochiRoPE} with the model's learned frequencies {@code pos_frequencies [3, H, D/2]}: a video
 * token at (frame t, row h, column w) turns channel pair f of head k by {@code t f_t[k,f] + h f_h[k,f] +
 * w f_w[k,f]}, every pair mixing all three axes. t is the frame index; h and w are the centres of the grid cells
 * of a {@code (Hp s) x (Wp s)} extent centred on 0, {@code s = sqrt(192^2 / (Hp Wp))}, in float32. The pairs are
 * interleaved (channels 2i, 2i+1); text tokens are not turned.
 */
final class MochiRope {
    private static final double TARGET_AREA = 192.0 * 192.0;

    /** {@code cos} and {@code sin}, each {@code [F Hp Wp, H, D/2]} float32. */
    record Table(Tensor cos, Tensor sin) {
    }

    private MochiRope() {
    }

    /** The table for a {@code frames x hp x wp} token grid. */
    static Table of(Tensor posFrequencies, long frames, long hp, long wp) {
        double scale = Math.sqrt(TARGET_AREA / (hp * wp));
        TensorOptions f32 = new TensorOptions(ScalarType.Float);
        Tensor t = torch.arange(new Scalar(frames), f32);
        Tensor h = centres(hp, scale, f32);
        Tensor w = centres(wp, scale, f32);
        long n = frames * hp * wp;
        Tensor pos = torch.stack(new TensorVector(t.view(frames, 1, 1).expand(frames, hp, wp),
                h.view(1, hp, 1).expand(frames, hp, wp), w.view(1, 1, wp).expand(frames, hp, wp)), 3).reshape(n, 3);
        long heads = posFrequencies.size(1);
        long half = posFrequencies.size(2);
        Tensor freqs = posFrequencies.to(ScalarType.Float).reshape(3, heads * half);
        Tensor angle = pos.matmul(freqs).view(n, heads, half);
        return new Table(angle.cos(), angle.sin());
    }

    private static Tensor centres(long count, double scale, TensorOptions f32) {
        double extent = count * scale / 2;
        Tensor edges = torch.linspace(new Scalar(-extent), new Scalar(extent), count + 1, f32);
        return edges.narrow(0, 0, count).add(edges.narrow(0, 1, count)).div(new Scalar(2));
    }

    /** Turns {@code x [N, S, H, D]} (float32 math, result in x's dtype) by the table of its S tokens. */
    static Tensor apply(Tensor x, Table table) {
        ScalarType in = x.scalar_type().intern();
        long d = x.size(3);
        Tensor pairs = x.to(ScalarType.Float).view(x.size(0), x.size(1), x.size(2), d / 2, 2);
        Tensor even = pairs.select(4, 0);
        Tensor odd = pairs.select(4, 1);
        Tensor re = even.mul(table.cos()).sub(odd.mul(table.sin()));
        Tensor im = even.mul(table.sin()).add(odd.mul(table.cos()));
        return torch.stack(new TensorVector(re.to(in), im.to(in)), -1).reshape(x.size(0), x.size(1), x.size(2), d);
    }
}
