package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.sample.Samples;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The latent preview: first three channels as RGB, min-max normalised per sample, enlarged, in a grid. */
class LatentPreviewTest {
    @TempDir
    Path dir;

    @Test
    void eachSampleIsNormalisedOnItsOwnOverItsFirstThreeChannels() throws Exception {
        int c = 4;
        int h = 2;
        int w = 4;
        float[] v = new float[3 * c * h * w];
        for (int s = 0; s < 3; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    // sample s spans [-(s+1), s+1] in channels 0..2; channel 3 is far outside and must not count
                    v[((s * c + ch) * h * w) + p] = ch == 3 ? 100f : (s + 1) * (p == 0 && ch == 0 ? -1f
                            : p == 1 && ch == 1 ? 1f : 0f);
                }
            }
        }
        Path file = dir.resolve("latents.png");
        LatentPreview.write(file, new Samples(v, new long[] {3, c, h, w}), 2);
        BufferedImage img = ImageIO.read(file.toFile());
        int scale = LatentPreview.MIN_SIDE / w;
        assertEquals(2 * w * scale, img.getWidth(), "2 columns");
        assertEquals(2 * h * scale, img.getHeight(), "3 samples in 2 rows");
        for (int s = 0; s < 3; s++) {
            int x0 = (s % 2) * w * scale;
            int y0 = (s / 2) * h * scale;
            assertEquals(0x00, (img.getRGB(x0, y0) >> 16) & 0xFF, "sample " + s + ": its minimum is black in red");
            assertEquals(0xFF, (img.getRGB(x0 + scale, y0) >> 8) & 0xFF, "sample " + s + ": its maximum is full green");
            assertEquals(0x80, img.getRGB(x0 + 2 * scale, y0) & 0xFF, "sample " + s + ": zero is mid-grey in blue");
        }
        assertEquals(0, img.getRGB(w * scale, h * scale) & 0xFFFFFF, "the unused cell is black");
    }
}
