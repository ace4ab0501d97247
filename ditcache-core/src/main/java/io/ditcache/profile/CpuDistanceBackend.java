package io.ditcache.profile;

import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceBackend;
import io.ditcache.backend.DistanceSums;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.slf4j.LoggerFactory;

/**
 * The CPU backend: {@link FusedDistances} over the tensors' native memory, computed at once (the sums wait in a
 * list until {@link DistanceAccumulator#drain()}). It accepts tensors on any device: one that is not on the CPU is
 * copied to host memory first, which costs a transfer per activation; a device backend (ditcache-cuda) avoids it.
 */
public final class CpuDistanceBackend implements DistanceBackend {
    private static volatile boolean warnedCopy;

    @Override
    public String name() {
        return FusedDistances.VECTOR ? "cpu-simd" : "cpu-scalar";
    }

    @Override
    public boolean accepts(Tensor activation) {
        return true;
    }

    @Override
    public DistanceAccumulator newAccumulator() {
        return new Accumulator();
    }

    private static final class Accumulator implements DistanceAccumulator {
        private final List<DistanceSums> queued = new ArrayList<>();

        @Override
        public void add(Tensor a, long aOffset, Tensor b, long bOffset, long length) {
            DistanceAccumulator.checkRange("a", a.numel(), aOffset, length);
            DistanceAccumulator.checkRange("b", b.numel(), bOffset, length);
            Tensor ha = onHost(a);
            Tensor hb = onHost(b);
            queued.add(FusedDistances.compute(ha.data_ptr_float(), aOffset, hb.data_ptr_float(), bOffset, length));
        }

        private static Tensor onHost(Tensor t) {
            if (t.device().type().intern() == DeviceType.CPU) {
                return t;
            }
            if (!warnedCopy) {
                warnedCopy = true;
                LoggerFactory.getLogger(CpuDistanceBackend.class).info("distances of {} tensors are computed on the "
                        + "CPU after a copy per activation; add io.ditcache:ditcache-cuda for on-device distances",
                        t.device().type().intern());
            }
            return t.cpu();
        }

        @Override
        public List<DistanceSums> drain() {
            List<DistanceSums> out = List.copyOf(queued);
            queued.clear();
            return out;
        }

        @Override
        public void close() {
            queued.clear();
        }
    }
}
