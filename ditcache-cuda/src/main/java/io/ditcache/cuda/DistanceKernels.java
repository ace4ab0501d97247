package io.ditcache.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.slf4j.LoggerFactory;

/**
 * The distance kernel ({@code ditcache_distances}) loaded into one device's primary context (once per device and
 * process), and its launch: one block per chunk of every pair; the last block of each pair folds the pair's partial
 * sums in a fixed order.
 */
final class DistanceKernels {
    private static final Map<Integer, DistanceKernels> LOADED = new ConcurrentHashMap<>();

    private final CUfunc_st distances;
    private final String origin;

    private DistanceKernels(CUfunc_st distances, String origin) {
        this.distances = distances;
        this.origin = origin;
    }

    /** The kernels of a device whose primary context is current on this thread. */
    static DistanceKernels of(int device) {
        return LOADED.computeIfAbsent(device, DistanceKernels::load);
    }

    private static DistanceKernels load(int device) {
        int capability = Driver.computeCapability(device);
        List<String> refused = new ArrayList<>();
        for (KernelImages.Image image : KernelImages.candidates(capability)) {
            KernelImages.Image im = image != null ? image : KernelImages.compiled(capability);
            try {
                DistanceKernels k = load(im);
                if (!refused.isEmpty()) {
                    LoggerFactory.getLogger(DistanceKernels.class).info("distance kernels: {} (refused: {})",
                            im.origin(), refused);
                }
                return k;
            } catch (CudaException e) {
                refused.add(e.getMessage());
            }
        }
        throw new CudaException("the driver refused every distance kernel for compute capability "
                + capability / 10 + "." + capability % 10 + ": " + refused);
    }

    /** The kernels of one image, loaded into the current context. */
    static DistanceKernels load(KernelImages.Image im) {
        CUmod_st module = new CUmod_st();
        Driver.check(cudart.cuModuleLoadData(module, new BytePointer(im.bytes())), "cuModuleLoadData("
                + im.origin() + ")");
        CUfunc_st distances = new CUfunc_st();
        Driver.check(cudart.cuModuleGetFunction(distances, module, "ditcache_distances"),
                "cuModuleGetFunction(ditcache_distances) in " + im.origin());
        return new DistanceKernels(distances, im.origin());
    }

    /** Where the loaded machine code came from ("packaged cubin distances.sm_90.cubin", "NVRTC 13.0 ..."). */
    String origin() {
        return origin;
    }

    /**
     * Queues the kernel for the plan's pairs, whose descriptors are at device address {@code pairs}: it writes
     * {@code plan.chunks() * 5} doubles at {@code partialsAddress}, counts finished blocks in {@code plan.count()}
     * unsigned ints at {@code done} (zero before, zero again after), and stores six doubles per pair at
     * {@code results + 48 * slot}.
     */
    void launch(LaunchPlan plan, long pairs, long partialsAddress, long done, long results, CUstream_st stream) {
        try (LongPointer pairsArg = new LongPointer(1).put(pairs);
                IntPointer countArg = new IntPointer(1).put(plan.count());
                LongPointer partialsArg = new LongPointer(1).put(partialsAddress);
                LongPointer doneArg = new LongPointer(1).put(done);
                LongPointer resultsArg = new LongPointer(1).put(results);
                PointerPointer<?> args = new PointerPointer<>(pairsArg, countArg, partialsArg, doneArg, resultsArg)) {
            Driver.check(cudart.cuLaunchKernel(distances, (int) plan.chunks(), 1, 1, LaunchPlan.THREADS, 1, 1, 0,
                    stream, args, (PointerPointer<?>) null), "cuLaunchKernel(ditcache_distances, " + plan.chunks()
                    + " blocks)");
        }
    }
}
