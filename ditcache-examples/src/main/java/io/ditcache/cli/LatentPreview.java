package io.ditcache.cli;

import io.ditcache.report.PngFiles;
import io.ditcache.sample.Samples;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A PNG grid of final latents, for a latent model whose decoder ditcache does not run: each sample's first three
 * latent channels as red, green and blue (fewer channels repeat the last), min-max normalised per sample over those
 * channels, the first frame of a video, enlarged by pixel repetition to at least 64 pixels a side; samples left to
 * right, {@code columns} per row.
 */
final class LatentPreview {
    /** The smallest side a sample is drawn at, in pixels. */
    static final int MIN_SIDE = 64;

    private LatentPreview() {
    }

    static void write(Path file, Samples samples, int columns) throws IOException {
        long[] s = samples.shape();
        int n = (int) s[0];
        int channels = s.length >= 4 ? (int) s[1] : 1;
        int h = s.length >= 3 ? (int) s[s.length - 2] : 1;
        int w = (int) s[s.length - 1];
        long perChannel = 1;
        for (int d = 2; d < s.length; d++) {
            perChannel *= s[d];
        }
        if (s.length < 4) {
            perChannel = (long) h * w;
        }
        int scale = Math.max(1, (MIN_SIDE + Math.max(h, w) - 1) / Math.max(h, w));
        int cols = Math.max(1, Math.min(columns, n));
        int rows = (n + cols - 1) / cols;
        BufferedImage img = new BufferedImage(cols * w * scale, rows * h * scale, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < n; i++) {
            float[] v = samples.sample(i);
            int[] ch = new int[3];
            for (int c = 0; c < 3; c++) {
                ch[c] = Math.min(c, channels - 1);
            }
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (int c : ch) {
                for (int p = 0; p < h * w; p++) {
                    float x = v[(int) (c * perChannel) + p];
                    if (Float.isFinite(x)) {
                        lo = Math.min(lo, x);
                        hi = Math.max(hi, x);
                    }
                }
            }
            double span = hi > lo ? hi - lo : 1;
            int x0 = (i % cols) * w * scale;
            int y0 = (i / cols) * h * scale;
            for (int y = 0; y < h * scale; y++) {
                for (int x = 0; x < w * scale; x++) {
                    int p = (y / scale) * w + x / scale;
                    int rgb = 0;
                    for (int c = 0; c < 3; c++) {
                        float val = v[(int) (ch[c] * perChannel) + p];
                        int b = Float.isFinite(val) ? (int) Math.round((val - lo) / span * 255) : 0;
                        rgb = (rgb << 8) | Math.max(0, Math.min(255, b));
                    }
                    img.setRGB(x0 + x, y0 + y, rgb);
                }
            }
        }
        PngFiles.write(img, file);
    }
}
