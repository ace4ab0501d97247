package io.ditcache.model.mochi;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Mochi's weightless RMS norms ({@code RMSNorm(0, eps, False)} inside {@code MochiRMSNormZero},
 * {@code MochiModulatedRMSNorm} and {@code MochiLayerNormContinuous}): {@code x * rsqrt(mean(x^2) + eps)} over the
 * last dimension in float32, optionally multiplied by a scale (there is never a shift).
 */
final class MochiNorms {
    /** eps of every modulation norm in a block. */
    static final double EPS = 1e-6;

    private MochiNorms() {
    }

    /** {@code rmsNorm(x) * scale} in float32, back in {@code x}'s dtype; {@code scale} broadcasts. */
    static Tensor modulated(Tensor x, Tensor scale) {
        ScalarType in = x.scalar_type().intern();
        Tensor f = x.to(ScalarType.Float);
        Tensor variance = f.pow(new Scalar(2)).mean(new long[] {-1}, true, new ScalarTypeOptional());
        Tensor normed = f.mul(variance.add(new Scalar(EPS)).rsqrt());
        return normed.mul(scale.to(ScalarType.Float)).to(in);
    }

    /** {@code rmsNorm(x) * (1 + scale)}, {@code scale [N, width]} broadcast over the tokens. */
    static Tensor scaled(Tensor x, Tensor scale) {
        return modulated(x, scale.unsqueeze(1).to(ScalarType.Float).add(new Scalar(1.0)));
    }

    /** {@code rmsNorm(x) * tanh(gate)}: how a block's attention and feed-forward outputs enter its residuals. */
    static Tensor gated(Tensor x, Tensor gate) {
        return modulated(x, gate.tanh().unsqueeze(1));
    }
}
