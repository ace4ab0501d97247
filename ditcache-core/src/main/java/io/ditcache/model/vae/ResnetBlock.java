package io.ditcache.model.vae;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code ResnetBlock2D} as the VAE uses it (no time embedding, output scale 1): GroupNorm, SiLU, 3x3
 * conv, GroupNorm, SiLU, 3x3 conv, added to the input, through a 1x1 {@code conv_shortcut} when the width changes.
 * Each intermediate is freed as soon as the next exists, so that at full image size the block holds its input, its
 * output and one intermediate (plus the convolution's own workspace) at most.
 */
final class ResnetBlock extends Module {
    private final GroupNorm norm1;
    private final Conv conv1;
    private final GroupNorm norm2;
    private final Conv conv2;
    private final Conv shortcut;

    ResnetBlock(long groups, long in, long out) {
        norm1 = register_module("norm1", new GroupNorm(groups, in));
        conv1 = register_module("conv1", new Conv(in, out, 3));
        norm2 = register_module("norm2", new GroupNorm(groups, out));
        conv2 = register_module("conv2", new Conv(out, out, 3));
        shortcut = in == out ? null : register_module("conv_shortcut", new Conv(in, out, 1));
    }

    /** The block on {@code x} (left to the caller); returns a new tensor. */
    Tensor forward(Tensor x) {
        Tensor h = norm1.forwardSilu(x);
        Tensor next = conv1.forward(h);
        h.close();
        h = norm2.forwardSilu(next);
        next.close();
        next = conv2.forward(h);
        h.close();
        Tensor skip = shortcut == null ? x : shortcut.forward(x);
        next.add_(skip);
        if (skip != x) {
            skip.close();
        }
        return next;
    }
}
