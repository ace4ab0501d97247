package io.ditcache.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;

import io.ditcache.backend.DistanceSums;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Step-to-step distance sums of device memory, for any CUDA stack: queue comparisons of raw device pointers with
 * {@link #add}, launch every queued one at once with {@link #submit()} (two kernels, no host synchronisation), and
 * read all results back with {@link #read()} (one synchronisation). The sums stay on the device in between, one slot
 * per comparison, in the order added.
 *
 * <p>Everything runs on one stream of one device, given at construction (a libtorch stream's handle, or 0 for the
 * legacy default stream). A pointer must stay valid until the work queued on that stream after {@link #submit()}
 * has run: stream order protects memory that the caller frees or reuses on the same stream. Results are identical
 * from run to run (no atomics). Not thread-safe.
 */
public final class DeviceDistances implements AutoCloseable {
    private static final int SLOT_DOUBLES = LaunchPlan.SUMS + 1;
    private static final int RESULT_BLOCK = 4096;
    private static final int STAGING = 4;

    private final int device;
    private final CUctx_st context = new CUctx_st();
    private final CUstream_st stream;
    private final DistanceKernels kernels;
    private final List<LaunchPlan.Pair> queued = new ArrayList<>();
    /** Results: blocks of slots on the device, filled in order; a launch's pairs share one block. */
    private final List<long[]> resultBlocks = new ArrayList<>(); // {address, capacity, used}
    /** Buffers replaced while work may still read them: freed at the next synchronisation. */
    private final List<Long> retired = new ArrayList<>();
    private final Pointer[] staging = new Pointer[STAGING];
    private final long[] stagingBytes = new long[STAGING];
    private final CUevent_st[] stagingDone = new CUevent_st[STAGING];
    private int nextStaging;
    private long pairsBuffer;
    private long pairsCapacity;
    private long partialsBuffer;
    private long partialsCapacity;
    private int launches;
    private boolean closed;

    /**
     * Distances on {@code device} (its primary context, the one libtorch uses) queued on {@code stream}.
     *
     * @param stream a {@code CUstream} handle, or 0 for the device's legacy default stream
     * @throws CudaException when CUDA is not available or the kernels cannot be loaded
     */
    public DeviceDistances(int device, long stream) {
        this(device, stream, null);
    }

    /** With the given kernels (loaded in the device's primary context), or the device's own when null. */
    DeviceDistances(int device, long stream, DistanceKernels kernels) {
        Driver.requireAvailable();
        this.device = device;
        Driver.check(cudart.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(device " + device
                + ")");
        current();
        this.stream = new CUstream_st(address(stream));
        this.kernels = kernels != null ? kernels : DistanceKernels.of(device);
    }

    /** Empty when a CUDA driver and device are present; else one line saying why not ("no CUDA device ..."). */
    public static Optional<String> unavailable() {
        return Driver.unavailable();
    }

    /** The device's name as the driver reports it ("NVIDIA H200"). */
    public static String deviceName(int device) {
        return Driver.name(device);
    }

    /** Where the kernels' machine code came from (a packaged cubin, the packaged PTX, or NVRTC). */
    public String kernelOrigin() {
        return kernels.origin();
    }

    /** Queues the sums over {@code length} elements at device addresses {@code a} (step i) and {@code b} (step i+1). */
    public void add(long a, long b, long length, ElementType type) {
        add(a, b, length, type, 0);
    }

    /**
     * Queues the sums over {@code length} elements of {@code a} and {@code b}, and the copy of {@code b} to
     * {@code copyTo} in the same pass (0: no copy). {@code copyTo} may be {@code a} (the previous buffer is
     * overwritten by the current activation, element by element after it is read), but must not overlap {@code b}.
     *
     * @throws IllegalArgumentException when a range does not lie in one device allocation of this device
     */
    public void add(long a, long b, long length, ElementType type, long copyTo) {
        requireOpen();
        if (length < 0) {
            throw new IllegalArgumentException("distance length " + length + " is negative");
        }
        current();
        long bytes = length * type.bytes();
        checkRange("a", a, bytes);
        checkRange("b", b, bytes);
        if (copyTo != 0) {
            checkRange("copyTo", copyTo, bytes);
            if (copyTo < b + bytes && b < copyTo + bytes) {
                throw new IllegalArgumentException("copyTo 0x" + Long.toHexString(copyTo) + " overlaps b 0x"
                        + Long.toHexString(b) + " over " + bytes + " bytes");
            }
        }
        queued.add(new LaunchPlan.Pair(a, b, copyTo, length, type, -1));
    }

    /** Comparisons queued and not yet launched. */
    public int pending() {
        return queued.size();
    }

    /** Launches every queued comparison: two kernels on the stream, no host synchronisation. */
    public void submit() {
        requireOpen();
        if (queued.isEmpty()) {
            return;
        }
        current();
        long[] block = resultBlock(queued.size());
        List<LaunchPlan.Pair> slotted = new ArrayList<>(queued.size());
        for (LaunchPlan.Pair p : queued) {
            slotted.add(new LaunchPlan.Pair(p.a(), p.b(), p.copyTo(), p.n(), p.type(), (int) block[2]++));
        }
        queued.clear();
        LaunchPlan plan = new LaunchPlan(slotted);
        ByteBuffer descriptors = plan.descriptors();
        long descriptorBytes = descriptors.remaining();
        if (descriptorBytes > pairsCapacity) {
            retire(pairsBuffer);
            pairsCapacity = Math.max(descriptorBytes, 2 * pairsCapacity);
            pairsBuffer = allocate(pairsCapacity);
        }
        long partialBytes = Math.max(1, plan.chunks()) * LaunchPlan.SUMS * Double.BYTES;
        if (partialBytes > partialsCapacity) {
            retire(partialsBuffer);
            partialsCapacity = Math.max(partialBytes, 2 * partialsCapacity);
            partialsBuffer = allocate(partialsCapacity);
        }
        upload(descriptors, pairsBuffer);
        kernels.launch(plan, pairsBuffer, partialsBuffer, block[0], stream);
        launches++;
    }

    /** Launches so far (each one stage-1 and one stage-2 kernel). */
    public int launches() {
        return launches;
    }

    /**
     * Submits what is queued, waits for the stream (the one host synchronisation), and returns the sums of every
     * comparison added since the last read, in the order added; the slots are then free again.
     */
    public List<DistanceSums> read() {
        submit();
        current();
        Driver.check(cudart.cuStreamSynchronize(stream), "cuStreamSynchronize");
        freeRetired();
        List<DistanceSums> out = new ArrayList<>();
        for (long[] block : resultBlocks) {
            int used = (int) block[2];
            if (used == 0) {
                continue;
            }
            try (Pointer host = new BytePointer((long) used * SLOT_DOUBLES * Double.BYTES)) {
                Driver.check(cudart.cuMemcpyDtoH(host, block[0], (long) used * SLOT_DOUBLES * Double.BYTES),
                        "cuMemcpyDtoH(distance results)");
                ByteBuffer b = host.asByteBuffer().order(ByteOrder.nativeOrder());
                for (int s = 0; s < used; s++) {
                    int o = s * SLOT_DOUBLES * Double.BYTES;
                    out.add(new DistanceSums((long) b.getDouble(o), b.getDouble(o + 8), b.getDouble(o + 16),
                            b.getDouble(o + 24), b.getDouble(o + 32), b.getDouble(o + 40)));
                }
            }
            block[2] = 0;
        }
        while (resultBlocks.size() > 1) {
            cudart.cuMemFree(resultBlocks.remove(resultBlocks.size() - 1)[0]);
        }
        return out;
    }

    /** Frees the device and pinned buffers (after the stream's work on them is done); queued work is dropped. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queued.clear();
        current();
        cudart.cuStreamSynchronize(stream);
        freeRetired();
        for (long[] block : resultBlocks) {
            cudart.cuMemFree(block[0]);
        }
        resultBlocks.clear();
        if (pairsBuffer != 0) {
            cudart.cuMemFree(pairsBuffer);
        }
        if (partialsBuffer != 0) {
            cudart.cuMemFree(partialsBuffer);
        }
        for (int i = 0; i < STAGING; i++) {
            if (staging[i] != null) {
                cudart.cuMemFreeHost(staging[i]);
                cudart.cuEventDestroy(stagingDone[i]);
            }
        }
        cudart.cuDevicePrimaryCtxRelease(device);
    }

    /** A block of result slots with room for {@code count} more, the last one if it has room. */
    private long[] resultBlock(int count) {
        if (!resultBlocks.isEmpty()) {
            long[] last = resultBlocks.get(resultBlocks.size() - 1);
            if (last[1] - last[2] >= count) {
                return last;
            }
        }
        long capacity = Math.max(RESULT_BLOCK, count);
        long[] block = {allocate(capacity * SLOT_DOUBLES * Double.BYTES), capacity, 0};
        resultBlocks.add(block);
        return block;
    }

    /**
     * Copies the descriptors to the device through a pinned staging buffer (a ring of four, each reused once the
     * copy queued from it has run), so that the copy is asynchronous and the host never waits in the usual case.
     */
    private void upload(ByteBuffer descriptors, long to) {
        int i = nextStaging;
        nextStaging = (nextStaging + 1) % STAGING;
        long bytes = descriptors.remaining();
        if (staging[i] != null) {
            Driver.check(cudart.cuEventSynchronize(stagingDone[i]), "cuEventSynchronize(descriptor staging)");
        }
        if (bytes > stagingBytes[i]) {
            if (staging[i] != null) {
                cudart.cuMemFreeHost(staging[i]);
            } else {
                stagingDone[i] = new CUevent_st();
                Driver.check(cudart.cuEventCreate(stagingDone[i], cudart.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            }
            long size = Math.max(bytes, 64L * LaunchPlan.PAIR_BYTES);
            PointerPointer<Pointer> p = new PointerPointer<>(1);
            Driver.check(cudart.cuMemAllocHost(p, size), "cuMemAllocHost(" + size + " bytes)");
            staging[i] = p.get(0);
            stagingBytes[i] = size;
            p.close();
        }
        Pointer host = staging[i];
        host.capacity(stagingBytes[i]);
        ByteBuffer target = new BytePointer(host).capacity(stagingBytes[i]).asByteBuffer();
        target.put(descriptors);
        Driver.check(cudart.cuMemcpyHtoDAsync(to, host, bytes, stream), "cuMemcpyHtoDAsync(" + bytes
                + " bytes of descriptors)");
        Driver.check(cudart.cuEventRecord(stagingDone[i], stream), "cuEventRecord");
    }

    private void checkRange(String operand, long address, long bytes) {
        if (address == 0) {
            throw new IllegalArgumentException("distance operand " + operand + " is a null device pointer");
        }
        long[] base = new long[1];
        try (SizeTPointer size = new SizeTPointer(1)) {
            int rc = cudart.cuMemGetAddressRange(base, size, address);
            if (rc != CUDA_SUCCESS) {
                throw new IllegalArgumentException("distance operand " + operand + " 0x" + Long.toHexString(address)
                        + " is not device memory of the current context (device " + device + "): "
                        + Driver.errorName(rc));
            }
            if (address + bytes > base[0] + size.get()) {
                throw new IllegalArgumentException("distance operand " + operand + " [0x" + Long.toHexString(address)
                        + ", +" + bytes + " bytes) runs past the end of its allocation of " + size.get()
                        + " bytes at 0x" + Long.toHexString(base[0]));
            }
        }
    }

    private long allocate(long bytes) {
        long[] p = new long[1];
        Driver.check(cudart.cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes)");
        return p[0];
    }

    private void retire(long address) {
        if (address != 0) {
            retired.add(address);
        }
    }

    private void freeRetired() {
        for (long a : retired) {
            cudart.cuMemFree(a);
        }
        retired.clear();
    }

    private void current() {
        Driver.check(cudart.cuCtxSetCurrent(context), "cuCtxSetCurrent(device " + device + ")");
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("DeviceDistances is closed");
        }
    }

    /** A JavaCPP pointer to a raw address (a handle). */
    static Pointer address(long value) {
        return new Pointer() {
            {
                address = value;
            }
        };
    }
}
