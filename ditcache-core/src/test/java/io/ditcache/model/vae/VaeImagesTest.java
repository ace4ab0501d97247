package io.ditcache.model.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.report.PngFiles;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoded images as PNG files: every pixel as diffusers' {@code VaeImageProcessor} makes it. */
class VaeImagesTest {
    @Test
    void pngsHoldTheGoldenPixels(@TempDir Path dir) throws Exception {
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            long[] want = golden.longs("image_uint8"); // [2, 16, 16, 3]
            List<BufferedImage> images = VaeImages.toImages(golden.load("decoded"));
            assertEquals(2, images.size());
            List<Path> files = List.of(dir.resolve("sample-0.png"), dir.resolve("sample-1.png"));
            for (int n = 0; n < 2; n++) {
                PngFiles.write(images.get(n), files.get(n));
            }
            for (int n = 0; n < 2; n++) {
                BufferedImage image = ImageIO.read(files.get(n).toFile());
                assertEquals(16, image.getWidth());
                assertEquals(16, image.getHeight());
                for (int y = 0; y < 16; y++) {
                    for (int x = 0; x < 16; x++) {
                        int rgb = image.getRGB(x, y);
                        int p = ((n * 16 + y) * 16 + x) * 3;
                        assertEquals(want[p], rgb >> 16 & 0xff, "red at " + n + "," + y + "," + x);
                        assertEquals(want[p + 1], rgb >> 8 & 0xff, "green at " + n + "," + y + "," + x);
                        assertEquals(want[p + 2], rgb & 0xff, "blue at " + n + "," + y + "," + x);
                    }
                }
            }
        }
    }

    /** Against a plain Java reference in float32 ({@code Math.rint} rounds half to even), exact halves included. */
    @Test
    void roundsHalfToEvenAndClampsAsTheReference() {
        int n = 2048;
        float[] in = new float[n];
        java.util.Random random = new java.util.Random(11);
        int halves = 0;
        for (int i = 0; i < n; i++) {
            if (i < 510) {
                float u = (float) ((i + 0.5) / 255.0); // a level and a half, where float32 keeps it exact
                in[i] = Math.min(1f, Math.max(-1f, 2 * u - 1));
            } else {
                in[i] = (float) (random.nextGaussian() * 1.5);
            }
        }
        long[] want = new long[n];
        for (int i = 0; i < n; i++) {
            float u = Math.min(1f, Math.max(0f, in[i] * 0.5f + 0.5f));
            float v = u * 255f;
            halves += v == Math.floor(v) + 0.5 ? 1 : 0;
            want[i] = (long) Math.rint(v);
        }
        assertTrue(halves > 50, "only " + halves + " exact halves among the inputs");
        try (PointerScope scope = new PointerScope()) {
            Tensor decoded = io.ditcache.internal.Tensors.fromFloats(in, 1, 1, 1, n);
            long[] got = io.ditcache.internal.Tensors.toLongs(VaeImages.toUint8(decoded).to(
                    torch.ScalarType.Long));
            assertArrayEquals(want, got);
        }
    }

    @Test
    void otherThanOneOrThreeChannelsIsRefused() {
        try (PointerScope scope = new PointerScope()) {
            assertThrows(IllegalArgumentException.class, () -> VaeImages.toImages(torch.zeros(1, 4, 2, 2)));
            assertThrows(IllegalArgumentException.class, () -> VaeImages.toUint8(torch.zeros(4, 2, 2)));
        }
    }
}
