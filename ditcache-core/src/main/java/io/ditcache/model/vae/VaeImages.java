package io.ditcache.model.vae;

import io.ditcache.internal.Tensors;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Decoded images as pictures, as diffusers' {@code VaeImageProcessor.postprocess} makes them: {@code x * 0.5 + 0.5}
 * clamped to [0, 1], channels last, times 255 in float32, rounded half to even, as 8-bit values. Write the pictures
 * with {@code io.ditcache.report.PngFiles}.
 */
public final class VaeImages {
    private VaeImages() {
    }

    /**
     * {@code [N, C, H, W]} decoded images (about [-1, 1]) to {@code [N, H, W, C]} uint8; the caller owns it.
     *
     * @throws IllegalArgumentException when {@code decoded} is not a floating-point 4-D tensor
     */
    public static Tensor toUint8(Tensor decoded) {
        check(decoded);
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor unit = torch.clamp(decoded.to(ScalarType.Float).mul(new Scalar(0.5)).add(new Scalar(0.5)),
                    new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
            out = torch.round(unit.permute(0, 2, 3, 1).mul(new Scalar(255.0))).to(ScalarType.Byte).contiguous();
            out.retainReference();
        }
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(out);
            out.releaseReference();
        }
        return out;
    }

    /**
     * The pictures of {@code decoded} {@code [N, C, H, W]}: RGB for three channels, grey for one.
     *
     * @throws IllegalArgumentException for another channel count
     */
    public static List<BufferedImage> toImages(Tensor decoded) {
        check(decoded);
        long[] s = Tensors.shape(decoded);
        int channels = (int) s[1];
        if (channels != 3 && channels != 1) {
            throw new IllegalArgumentException("decoded images have " + channels + " channels, expected 3 (RGB) or 1");
        }
        int h = Math.toIntExact(s[2]);
        int w = Math.toIntExact(s[3]);
        List<BufferedImage> out = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor pixels = toUint8(decoded);
            byte[] bytes = new byte[Math.multiplyExact(Math.multiplyExact(h, w), channels)];
            for (long i = 0; i < s[0]; i++) {
                Tensor one = pixels.select(0, i).contiguous();
                new BytePointer(one.data_ptr()).capacity(bytes.length).get(bytes);
                BufferedImage image = new BufferedImage(w, h, channels == 3 ? BufferedImage.TYPE_INT_RGB
                        : BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int p = (y * w + x) * channels;
                        if (channels == 3) {
                            image.setRGB(x, y, (bytes[p] & 0xff) << 16 | (bytes[p + 1] & 0xff) << 8
                                    | bytes[p + 2] & 0xff);
                        } else {
                            image.getRaster().setSample(x, y, 0, bytes[p] & 0xff);
                        }
                    }
                }
                out.add(image);
            }
        }
        return out;
    }

    private static void check(Tensor decoded) {
        if (decoded.dim() != 4 || !decoded.is_floating_point()) {
            throw new IllegalArgumentException("decoded images have shape " + Arrays.toString(Tensors.shape(decoded))
                    + " (" + decoded.scalar_type().intern() + "), expected floating point [N, C, H, W]");
        }
    }
}
