package io.ditcache.cuda;

import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceBackend;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.LoggerFactory;

/**
 * The CUDA distance backend: libtorch CUDA tensors of float32, float16 or bfloat16, compared on their device by
 * the fused kernels of {@link DeviceDistances}, on libtorch's current stream. Found by {@link java.util.ServiceLoader}
 * when ditcache-cuda is on the class path; without a CUDA driver or device it says so once, in one line, and
 * accepts nothing, so that core's CPU backend is used.
 */
public final class CudaDistanceBackend implements DistanceBackend {
    private static volatile boolean announced;

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    /** Whether CUDA is usable here; the first time it is not, logs why in one line. */
    static boolean usable() {
        if (DeviceDistances.unavailable().isEmpty()) {
            return true;
        }
        if (!announced) {
            announced = true;
            LoggerFactory.getLogger(CudaDistanceBackend.class).info("ditcache-cuda: {}; distances are computed by "
                    + "the CPU backend", DeviceDistances.unavailable().get());
        }
        return false;
    }

    @Override
    public boolean accepts(Tensor activation) {
        return activation.is_cuda() && TensorDistances.type(activation) != null && usable();
    }

    /** float32, float16 and bfloat16 as they are, when contiguous: no conversion before the kernels. */
    @Override
    public boolean reads(Tensor activation) {
        return activation.is_contiguous() && TensorDistances.type(activation) != null;
    }

    @Override
    public DistanceAccumulator newAccumulator() {
        return new TensorDistances();
    }
}
