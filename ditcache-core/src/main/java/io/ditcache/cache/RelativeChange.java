package io.ditcache.cache;

import io.ditcache.internal.Tensors;
import org.bytedeco.pytorch.Tensor;

/** The relative L1 change per row that the cache signals measure (FBCache's and TeaCache's). */
final class RelativeChange {
    private RelativeChange() {
    }

    /**
     * Per row: {@code sum|a - b| / sum|b|} over all but the first dimension of both streams together, accumulated
     * in float64.
     */
    static double[] of(Streams a, Streams b) {
        int n = (int) a.image().size(0);
        double[] num = new double[n];
        double[] den = new double[n];
        accumulate(a.image(), b.image(), num, den);
        if (a.hasContext() && b.hasContext()) {
            accumulate(a.context(), b.context(), num, den);
        }
        for (int r = 0; r < n; r++) {
            num[r] /= den[r];
        }
        return num;
    }

    private static void accumulate(Tensor a, Tensor b, double[] num, double[] den) {
        // on the host, in float64, as the profiler measures; a device tensor comes over once per signal and step
        float[] av = Tensors.toFloats(a.cpu());
        float[] bv = Tensors.toFloats(b.cpu());
        int n = num.length;
        int per = av.length / n;
        for (int r = 0; r < n; r++) {
            for (int e = r * per; e < (r + 1) * per; e++) {
                num[r] += Math.abs((double) av[e] - bv[e]);
                den[r] += Math.abs((double) bv[e]);
            }
        }
    }
}
