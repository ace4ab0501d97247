package io.ditcache.cache;

import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceBackend;
import io.ditcache.backend.DistanceBackends;
import io.ditcache.backend.DistanceSums;
import io.ditcache.internal.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The relative L1 change per row that the cache signals measure (FBCache's and TeaCache's). Where a device backend
 * (ditcache-cuda, priority above the CPU's) accepts the tensors, it sums both streams of every row in one launch
 * and reads them back in one host synchronisation per signal, where copying the tensors to the host would cost one
 * per tensor (two or four); otherwise they are summed here, on the host, in float64. One per cache runtime; not
 * thread-safe.
 */
final class RelativeChange implements AutoCloseable {
    private DistanceBackend backend;
    private DistanceAccumulator device;
    /** The device type found to have no device backend (its tensors are summed on the host). */
    private DeviceType hostOnly;

    /**
     * Per row: {@code sum|a - b| / sum|b|} over all but the first dimension of both streams together, accumulated
     * in float64.
     */
    double[] of(Streams a, Streams b) {
        int n = (int) a.image().size(0);
        boolean context = a.hasContext() && b.hasContext();
        DistanceAccumulator acc = deviceAccumulator(a.image());
        if (acc != null) {
            return onDevice(acc, a, b, n, context);
        }
        double[] num = new double[n];
        double[] den = new double[n];
        accumulate(a.image(), b.image(), num, den);
        if (context) {
            accumulate(a.context(), b.context(), num, den);
        }
        for (int r = 0; r < n; r++) {
            num[r] /= den[r];
        }
        return num;
    }

    /** The accumulator of a device backend for this tensor, or null where the host sums it. */
    private DistanceAccumulator deviceAccumulator(Tensor t) {
        if (backend != null && backend.accepts(t)) {
            return device;
        }
        DeviceType type = t.device().type().intern();
        if (type == hostOnly) {
            return null; // asked once per device type, not at every signal of every step
        }
        close();
        DistanceBackend b = DistanceBackends.forActivation(t);
        if (b.priority() <= 0) {
            hostOnly = type; // only the CPU backend: the host loop below is the same arithmetic, in float64
            return null;
        }
        backend = b;
        device = b.newAccumulator();
        return device;
    }

    private double[] onDevice(DistanceAccumulator acc, Streams a, Streams b, int n, boolean context) {
        int streams = context ? 2 : 1;
        for (int s = 0; s < streams; s++) {
            Tensor now = s == 0 ? a.image() : a.context();
            Tensor ref = s == 0 ? b.image() : b.context();
            if (!backend.reads(now) || !backend.reads(ref) || now.scalar_type().intern() != ref.scalar_type()
                    .intern()) {
                now = now.to(ScalarType.Float).contiguous();
                ref = ref.to(ScalarType.Float).contiguous();
            }
            long per = now.numel() / n;
            long[] offsets = new long[n];
            for (int r = 0; r < n; r++) {
                offsets[r] = r * per;
            }
            // the reference is the comparison's "a": sumAbsA is then sum|b| of this class
            acc.addRows(ref, offsets, now, offsets, n, per);
        }
        List<DistanceSums> sums = acc.drain();
        double[] out = new double[n];
        for (int r = 0; r < n; r++) {
            double num = 0;
            double den = 0;
            for (int s = 0; s < streams; s++) {
                DistanceSums d = sums.get(s * n + r);
                num += d.sumAbsDiff();
                den += d.sumAbsA();
            }
            out[r] = num / den;
        }
        return out;
    }

    private static void accumulate(Tensor a, Tensor b, double[] num, double[] den) {
        // on the host, in float64, as the profiler measures; a device tensor without a device backend comes over
        // once per signal and step
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

    @Override
    public void close() {
        if (device != null) {
            device.close();
        }
        device = null;
        backend = null;
    }
}
