package io.ditcache.model.layers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code RMSNorm} with an affine {@code weight}: {@code x * rsqrt(mean(x^2) + eps) * weight} over the
 * last dimension, the mean taken in float32.
 */
public final class RmsNorm extends Module {
    private final double eps;
    private final Tensor weight;

    public RmsNorm(long dim, double eps) {
        this.eps = eps;
        weight = register_parameter("weight", torch.ones(dim));
    }

    public Tensor forward(Tensor x) {
        ScalarType in = x.scalar_type().intern();
        Tensor f = x.to(ScalarType.Float);
        Tensor variance = f.pow(new Scalar(2)).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor normed = f.mul(variance.add(new Scalar(eps)).rsqrt());
        return normed.to(weight.scalar_type().intern()).mul(weight).to(in);
    }
}
