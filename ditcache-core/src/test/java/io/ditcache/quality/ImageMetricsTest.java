package io.ditcache.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageMetricsTest {
    /** 16×13 pattern and its distorted copy, as in the numpy reference below. */
    static float[][] pair() {
        int h = 16;
        int w = 13;
        float[] a = new float[h * w];
        float[] b = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = Math.sin(x * 0.7) * Math.cos(y * 0.45);
                a[y * w + x] = (float) v;
                b[y * w + x] = (float) Math.max(-1, Math.min(1, 0.8 * v + 0.15 * Math.cos(x * 1.3 + y * 0.9) - 0.05));
            }
        }
        return new float[][] {a, b};
    }

    static float[] digitLike(Random rnd) {
        float[] img = new float[28 * 28];
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                double d = Math.hypot(x - 14, (y - 14) * 0.7);
                img[y * 28 + x] = (float) (Math.abs(d - 7) < 2 ? 1 : -1) + 0.01f * (float) rnd.nextGaussian();
            }
        }
        return img;
    }

    @Test
    void identicalImagesHaveInfinitePsnrAndSsimOne() {
        float[] img = digitLike(new Random(1));
        assertEquals(Double.POSITIVE_INFINITY, ImageMetrics.psnr(img, img.clone(), 2));
        assertEquals(1.0, ImageMetrics.ssim(img, img.clone(), 28, 28, 2), 1e-12);
    }

    @Test
    void constantOffsetGivesThePsnrClosedForm() {
        float[] a = digitLike(new Random(2));
        float[] b = a.clone();
        float offset = 0.125f; // exact in binary, so every pixel differs by exactly the offset
        for (int i = 0; i < b.length; i++) {
            b[i] = a[i] + offset;
        }
        double expected = 10 * Math.log10(2.0 * 2.0 / (offset * offset)); // R^2 / MSE, MSE = offset^2
        assertEquals(expected, ImageMetrics.psnr(a, b, 2), 1e-4);
        assertEquals(20 * Math.log10(255 / 4.0), ImageMetrics.psnr(new float[] {0, 0}, new float[] {4, 4}, 255), 1e-12);
    }

    @Test
    void ssimFallsAsNoiseGrows() {
        Random rnd = new Random(3);
        float[] clean = digitLike(rnd);
        double previous = 1.0;
        for (double sigma : new double[] {0.05, 0.2, 0.5, 1.0}) {
            float[] noisy = clean.clone();
            Random n = new Random(4);
            for (int i = 0; i < noisy.length; i++) {
                noisy[i] += (float) (sigma * n.nextGaussian());
            }
            double s = ImageMetrics.ssim(clean, noisy, 28, 28, 2);
            assertTrue(s < previous, "sigma " + sigma + ": SSIM " + s + " should be below " + previous);
            previous = s;
        }
        assertTrue(previous < 0.5, "heavy noise gives a low SSIM, got " + previous);
    }

    /**
     * The value comes from this numpy code (written for this test; it follows skimage's
     * structural_similarity with gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=2):
     *
     * <pre>
     * h, w = 16, 13
     * y, x = np.mgrid[0:h, 0:w].astype(np.float64)
     * a = np.sin(x * 0.7) * np.cos(y * 0.45)
     * b = np.clip(0.8 * a + 0.15 * np.cos(x * 1.3 + y * 0.9) - 0.05, -1, 1)
     * a, b = (v.astype(np.float32).astype(np.float64) for v in (a, b))
     * r = int(3.5 * 1.5 + 0.5)
     * k = np.exp(-0.5 * np.arange(-r, r + 1) ** 2 / 1.5 ** 2); k /= k.sum(); win = np.outer(k, k)
     * filt = lambda img: np.array([[(img[i:i+2*r+1, j:j+2*r+1] * win).sum()
     *                               for j in range(img.shape[1] - 2*r)] for i in range(img.shape[0] - 2*r)])
     * C1, C2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
     * ux, uy = filt(a), filt(b)
     * vx, vy, vxy = filt(a*a) - ux*ux, filt(b*b) - uy*uy, filt(a*b) - ux*uy
     * S = ((2*ux*uy + C1) * (2*vxy + C2)) / ((ux**2 + uy**2 + C1) * (vx + vy + C2))
     * S.mean()  # 0.6679555132003699
     * </pre>
     */
    @Test
    void ssimMatchesNumpyReference() {
        float[][] p = pair();
        assertEquals(0.6679555132003699, ImageMetrics.ssim(p[0], p[1], 16, 13, 2), 1e-9);
        assertEquals(ImageMetrics.ssim(p[0], p[1], 16, 13, 2), ImageMetrics.ssim(p[1], p[0], 16, 13, 2), 1e-15,
                "symmetric");
    }

    @Test
    void batchMeansAverageThePairs() {
        float[][] p = pair();
        float[] a = new float[2 * p[0].length];
        float[] b = new float[a.length];
        System.arraycopy(p[0], 0, a, 0, p[0].length);
        System.arraycopy(p[1], 0, b, 0, p[0].length);
        System.arraycopy(p[0], 0, a, p[0].length, p[0].length);
        System.arraycopy(p[0], 0, b, p[0].length, p[0].length);
        assertEquals((ImageMetrics.ssim(p[0], p[1], 16, 13, 2) + 1) / 2, ImageMetrics.meanSsim(a, b, 2, 16, 13, 2),
                1e-12);
        assertEquals(Double.POSITIVE_INFINITY, ImageMetrics.meanPsnr(a, b, 2, 2));
        System.arraycopy(p[1], 0, b, p[0].length, p[0].length);
        assertEquals(ImageMetrics.psnr(p[0], p[1], 2), ImageMetrics.meanPsnr(a, b, 2, 2), 1e-12);
    }

    @Test
    void badSizesAreRejected() {
        float[] img = new float[28 * 28];
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.psnr(img, new float[3], 2));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.psnr(img, img, 0));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.ssim(img, img, 28, 27, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageMetrics.ssim(new float[100], new float[100], 10, 10, 2));
        assertTrue(e.getMessage().contains("at least 11x11"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.meanSsim(img, img, 2, 28, 28, 2));
    }
}
