package io.ditcache.model.vae;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** A square 2-D convolution as {@code nn.Conv2d} names it ({@code weight [out, in, k, k]}, {@code bias [out]}). */
final class Conv extends Module {
    private final long stride;
    private final long padding;
    private final Tensor weight;
    private final Tensor bias;

    /** A convolution with stride 1 and "same" padding ({@code k / 2}). */
    Conv(long in, long out, int k) {
        this(in, out, k, 1, k / 2);
    }

    Conv(long in, long out, int k, long stride, long padding) {
        this.stride = stride;
        this.padding = padding;
        register_parameter("weight", torch.zeros(out, in, k, k));
        register_parameter("bias", torch.zeros(out));
        // the registered tensors move as the table grows: keep our own handles once registration is complete
        TensorVector params = parameters();
        weight = new Tensor(params.get(0));
        bias = new Tensor(params.get(1));
    }

    Tensor forward(Tensor x) {
        return torch.conv2d(x, weight, new TensorOptional(bias), new long[] {stride, stride},
                new long[] {padding, padding}, new long[] {1, 1}, 1);
    }
}
