package io.ditcache.backend;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where step-to-step distances are computed: the profiler's one door to a kernel. ditcache-core registers the
 * CPU backend (a fused SIMD pass over native memory, or its scalar loop); {@code ditcache-cuda} adds one for CUDA
 * tensors. Backends are found with {@link java.util.ServiceLoader} ({@code
 * META-INF/services/io.ditcache.backend.DistanceBackend}); {@link DistanceBackends#forActivation} picks one.
 *
 * <p>A backend keeps the sums it computes until a run ends ({@link DistanceAccumulator#drain()}), so that a GPU
 * backend needs one host synchronisation per run, not one per site and step.
 */
public interface DistanceBackend {
    /** A short name for logs and reports, such as {@code cpu-simd}. */
    String name();

    /** Whether this backend reads tensors of this activation's device. */
    boolean accepts(Tensor activation);

    /**
     * Whether this backend's accumulator reads the activation as it is; otherwise the profiler hands it a contiguous
     * float32 copy. The default: contiguous float32 only (the CPU backend); a GPU backend may read half types too.
     */
    default boolean reads(Tensor activation) {
        return activation.scalar_type().intern() == ScalarType.Float && activation.is_contiguous();
    }

    /** Among the backends that accept an activation, the highest priority is used; the CPU backend has 0. */
    default int priority() {
        return 0;
    }

    /** A new, empty accumulation (one per profiler). */
    DistanceAccumulator newAccumulator();
}
