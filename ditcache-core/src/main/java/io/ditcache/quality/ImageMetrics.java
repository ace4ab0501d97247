package io.ditcache.quality;

import java.util.Arrays;

/**
 * Full-reference image metrics on single-channel images given as row-major float arrays, computed in double.
 *
 * <p>SSIM follows Wang et al. (2004) as scikit-image's
 * {@code structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=R)}:
 * an 11×11 Gaussian window (sigma 1.5, truncated at 3.5 sigma, normalised to sum 1), K1 = 0.01, K2 = 0.03,
 * population (weighted) moments, and the mean of the SSIM map over the positions where the whole window lies
 * inside the image.
 */
public final class ImageMetrics {
    /** Data range of images scaled to {@code [-1, 1]}. */
    public static final double UNIT_RANGE = 2.0;
    /** SSIM window side. */
    public static final int SSIM_WINDOW = 11;
    static final double SSIM_SIGMA = 1.5;
    static final double K1 = 0.01;
    static final double K2 = 0.03;
    private static final double[] GAUSS = gaussian(SSIM_WINDOW, SSIM_SIGMA);

    private ImageMetrics() {
    }

    /**
     * Peak signal-to-noise ratio in dB, {@code 10 log10(R^2 / MSE)}; {@code +Infinity} for identical images.
     *
     * @param dataRange R, the span of possible pixel values (2 for images in {@code [-1, 1]})
     * @throws IllegalArgumentException if the lengths differ, the images are empty or the range is not positive
     */
    public static double psnr(float[] a, float[] b, double dataRange) {
        checkPair(a, b, dataRange);
        return psnr(a, b, 0, a.length, dataRange);
    }

    /**
     * Mean structural similarity of two {@code h × w} images.
     *
     * @throws IllegalArgumentException if the arrays are not {@code h * w}, an image side is smaller than the
     *                                  11-pixel window, or the range is not positive
     */
    public static double ssim(float[] a, float[] b, int h, int w, double dataRange) {
        checkPair(a, b, dataRange);
        checkSize(a.length, 1, h, w);
        return ssim(a, b, 0, h, w, dataRange);
    }

    /**
     * The mean over {@code count} image pairs of their PSNR ({@code +Infinity} if any pair is identical).
     *
     * @param a row-major {@code [count, pixels]}
     * @param b same layout as {@code a}
     */
    public static double meanPsnr(float[] a, float[] b, int count, double dataRange) {
        checkPair(a, b, dataRange);
        if (count < 1 || a.length % count != 0) {
            throw new IllegalArgumentException(a.length + " values do not split into " + count + " images");
        }
        int per = a.length / count;
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += psnr(a, b, i * per, per, dataRange);
        }
        return sum / count;
    }

    /**
     * The mean over {@code count} image pairs of their SSIM.
     *
     * @param a row-major {@code [count, h, w]}
     * @param b same layout as {@code a}
     */
    public static double meanSsim(float[] a, float[] b, int count, int h, int w, double dataRange) {
        checkPair(a, b, dataRange);
        checkSize(a.length, count, h, w);
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += ssim(a, b, i * h * w, h, w, dataRange);
        }
        return sum / count;
    }

    private static double psnr(float[] a, float[] b, int from, int n, double dataRange) {
        double se = 0;
        for (int i = from; i < from + n; i++) {
            double d = (double) a[i] - b[i];
            se += d * d;
        }
        double mse = se / n;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(dataRange * dataRange / mse);
    }

    private static double ssim(float[] a, float[] b, int from, int h, int w, double dataRange) {
        int r = SSIM_WINDOW / 2;
        int oh = h - 2 * r;
        int ow = w - 2 * r;
        // separable Gaussian: filter rows first (only columns r..w-r-1 are needed), then columns
        double[][] rows = new double[5][h * ow];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < ow; x++) {
                double mx = 0;
                double my = 0;
                double mxx = 0;
                double myy = 0;
                double mxy = 0;
                for (int k = 0; k < SSIM_WINDOW; k++) {
                    double g = GAUSS[k];
                    double u = a[from + y * w + x + k];
                    double v = b[from + y * w + x + k];
                    mx += g * u;
                    my += g * v;
                    mxx += g * u * u;
                    myy += g * v * v;
                    mxy += g * u * v;
                }
                int at = y * ow + x;
                rows[0][at] = mx;
                rows[1][at] = my;
                rows[2][at] = mxx;
                rows[3][at] = myy;
                rows[4][at] = mxy;
            }
        }
        double c1 = (K1 * dataRange) * (K1 * dataRange);
        double c2 = (K2 * dataRange) * (K2 * dataRange);
        double sum = 0;
        double[] m = new double[5];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                Arrays.fill(m, 0);
                for (int k = 0; k < SSIM_WINDOW; k++) {
                    double g = GAUSS[k];
                    int at = (y + k) * ow + x;
                    for (int q = 0; q < 5; q++) {
                        m[q] += g * rows[q][at];
                    }
                }
                double ux = m[0];
                double uy = m[1];
                double vx = m[2] - ux * ux;
                double vy = m[3] - uy * uy;
                double vxy = m[4] - ux * uy;
                sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            }
        }
        return sum / ((double) oh * ow);
    }

    /** scipy.ndimage's Gaussian kernel: radius {@code int(3.5 sigma + 0.5)}, normalised to sum 1. */
    static double[] gaussian(int size, double sigma) {
        double[] g = new double[size];
        int r = size / 2;
        double sum = 0;
        for (int i = 0; i < size; i++) {
            double x = i - r;
            g[i] = Math.exp(-0.5 * x * x / (sigma * sigma));
            sum += g[i];
        }
        for (int i = 0; i < size; i++) {
            g[i] /= sum;
        }
        return g;
    }

    private static void checkPair(float[] a, float[] b, double dataRange) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("images have " + a.length + " and " + b.length
                    + " values, expected equal sizes");
        }
        if (a.length == 0) {
            throw new IllegalArgumentException("images are empty");
        }
        if (!(dataRange > 0) || !Double.isFinite(dataRange)) {
            throw new IllegalArgumentException("data range must be a finite number > 0, got " + dataRange);
        }
    }

    private static void checkSize(int length, int count, int h, int w) {
        if (h < SSIM_WINDOW || w < SSIM_WINDOW) {
            throw new IllegalArgumentException("images are " + h + "x" + w + ", SSIM needs at least "
                    + SSIM_WINDOW + "x" + SSIM_WINDOW + " (its window)");
        }
        if (count < 1 || length != (long) count * h * w) {
            throw new IllegalArgumentException(length + " values, expected " + count + " images of " + h + "x" + w
                    + " = " + (long) count * h * w);
        }
    }
}
