package io.ditcache.backend;

import io.ditcache.profile.CpuDistanceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.pytorch.Tensor;

/**
 * A second backend, registered for the tests only: it takes precedence while {@link #ENABLED} is set, delegates the
 * arithmetic to the CPU backend and records how the profiler drives it (what it queued, when it drained).
 */
public final class RecordingBackend implements DistanceBackend {
    public static final AtomicBoolean ENABLED = new AtomicBoolean();
    public static final List<String> EVENTS = new ArrayList<>();

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public boolean accepts(Tensor activation) {
        return ENABLED.get();
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public DistanceAccumulator newAccumulator() {
        DistanceAccumulator cpu = new CpuDistanceBackend().newAccumulator();
        return new DistanceAccumulator() {
            @Override
            public void add(Tensor a, long aOffset, Tensor b, long bOffset, long length) {
                EVENTS.add("add " + aOffset + " " + bOffset + " " + length);
                cpu.add(a, aOffset, b, bOffset, length);
            }

            @Override
            public List<DistanceSums> drain() {
                List<DistanceSums> out = cpu.drain();
                EVENTS.add("drain " + out.size());
                return out;
            }

            @Override
            public void close() {
                cpu.close();
            }
        };
    }
}
