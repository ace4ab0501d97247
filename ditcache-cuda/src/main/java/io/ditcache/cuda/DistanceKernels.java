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
 * The two distance kernels loaded into one device's primary context (once per device and process), and their
 * launches: stage 1 ({@code ditcache_distance_partials}, one block per chunk of every pair) and stage 2
 * ({@code ditcache_distance_fold}, one block per pair), queued on one stream one after the other.
 */
final class DistanceKernels {
    private static final Map<Integer, DistanceKernels> LOADED = new ConcurrentHashMap<>();

    private final CUfunc_st partials;
    private final CUfunc_st fold;
    private final String origin;

    private DistanceKernels(CUfunc_st partials, CUfunc_st fold, String origin) {
        this.partials = partials;
        this.fold = fold;
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
        CUfunc_st partials = new CUfunc_st();
        CUfunc_st fold = new CUfunc_st();
        Driver.check(cudart.cuModuleGetFunction(partials, module, "ditcache_distance_partials"),
                "cuModuleGetFunction(ditcache_distance_partials) in " + im.origin());
        Driver.check(cudart.cuModuleGetFunction(fold, module, "ditcache_distance_fold"),
                "cuModuleGetFunction(ditcache_distance_fold) in " + im.origin());
        return new DistanceKernels(partials, fold, im.origin());
    }

    /** Where the loaded machine code came from ("packaged cubin distances.sm_90.cubin", "NVRTC 13.0 ..."). */
    String origin() {
        return origin;
    }

    /**
     * Queues both stages for the plan's pairs, whose descriptors are at device address {@code pairs}; stage 1 writes
     * {@code plan.chunks() * 5} doubles at {@code partialsAddress}, stage 2 six doubles per pair at
     * {@code results + 48 * slot}.
     */
    void launch(LaunchPlan plan, long pairs, long partialsAddress, long results, CUstream_st stream) {
        try (LongPointer pairsArg = new LongPointer(1).put(pairs);
                IntPointer countArg = new IntPointer(1).put(plan.count());
                LongPointer partialsArg = new LongPointer(1).put(partialsAddress);
                LongPointer resultsArg = new LongPointer(1).put(results);
                PointerPointer<?> stage1 = new PointerPointer<>(pairsArg, countArg, partialsArg);
                PointerPointer<?> stage2 = new PointerPointer<>(pairsArg, partialsArg, resultsArg)) {
            if (plan.chunks() > 0) {
                Driver.check(cudart.cuLaunchKernel(partials, (int) plan.chunks(), 1, 1, LaunchPlan.THREADS, 1, 1, 0,
                        stream, stage1, (PointerPointer<?>) null), "cuLaunchKernel(ditcache_distance_partials, "
                        + plan.chunks() + " blocks)");
            }
            Driver.check(cudart.cuLaunchKernel(fold, plan.count(), 1, 1, LaunchPlan.THREADS, 1, 1, 0, stream, stage2,
                    (PointerPointer<?>) null), "cuLaunchKernel(ditcache_distance_fold, " + plan.count() + " blocks)");
        }
    }
}
