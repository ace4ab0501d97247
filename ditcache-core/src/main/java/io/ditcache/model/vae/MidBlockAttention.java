package io.ditcache.model.vae;

import io.ditcache.model.layers.Linears;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The mid block's {@code Attention} (diffusers' former {@code AttentionBlock}): GroupNorm, then one head of
 * self-attention over every spatial position with {@code to_q}, {@code to_k}, {@code to_v} and {@code to_out.0}
 * (all with bias), logits scaled by {@code 1/sqrt(C)}, added to the input (output scale 1). libtorch's
 * scaled-dot-product attention runs a fused kernel, so the {@code (HW)^2} weights are never held at once.
 */
final class MidBlockAttention extends Module {
    private final GroupNorm groupNorm;
    private final LinearImpl toQ;
    private final LinearImpl toK;
    private final LinearImpl toV;
    private final LinearImpl toOut;

    MidBlockAttention(long groups, long channels) {
        groupNorm = register_module("group_norm", new GroupNorm(groups, channels));
        toQ = register_module("to_q", Linears.of(channels, channels, true));
        toK = register_module("to_k", Linears.of(channels, channels, true));
        toV = register_module("to_v", Linears.of(channels, channels, true));
        Module outList = register_module("to_out", new Module());
        toOut = outList.register_module("0", Linears.of(channels, channels, true));
    }

    /** {@code [N, C, H, W]} to {@code [N, C, H, W]}. */
    Tensor forward(Tensor x) {
        long n = x.size(0);
        long c = x.size(1);
        long h = x.size(2);
        long w = x.size(3);
        Tensor tokens;
        try (Tensor normed = groupNorm.forward(x); Tensor flat = normed.reshape(n, c, h * w)) {
            tokens = flat.transpose(1, 2); // [N, HW, C]
        }
        Tensor q = heads(toQ.forward(tokens));
        Tensor k = heads(toK.forward(tokens));
        Tensor v = heads(toV.forward(tokens));
        tokens.close();
        Tensor attended;
        try (Tensor oneHead = torch.scaled_dot_product_attention(q, k, v)) {
            attended = oneHead.squeeze(1); // [N, HW, C]
        }
        q.close();
        k.close();
        v.close();
        Tensor image;
        try (Tensor out = toOut.forward(attended); Tensor channelsFirst = out.transpose(1, 2)) {
            image = channelsFirst.reshape(n, c, h, w);
        }
        attended.close();
        image.add_(x);
        return image;
    }

    /** {@code [N, HW, C]} as one head, {@code [N, 1, HW, C]}; the argument's handle is closed. */
    private static Tensor heads(Tensor t) {
        try (t) {
            return t.unsqueeze(1);
        }
    }
}
