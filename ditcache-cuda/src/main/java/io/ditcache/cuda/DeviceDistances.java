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
 * {@link #add}, launch every queued one at once with {@link #submit()} (one kernel, no host synchronisation), and
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
    /**
     * Descriptors travel through a ring of {@value #STAGING} pinned host buffers and device buffers, copied on a
     * stream of their own: a launch's copy runs while earlier kernels do, so the kernels' stream never waits for it.
     */
    private final CUstream_st copies = new CUstream_st();
    private final Pointer[] staging = new Pointer[STAGING];
    private final long[] stagingBytes = new long[STAGING];
    private final long[] pairsBuffer = new long[STAGING];
    private final CUevent_st[] uploaded = new CUevent_st[STAGING];
    private final CUevent_st[] consumed = new CUevent_st[STAGING];
    private int nextStaging;
    private long partialsBuffer;
    private long partialsCapacity;
    /** One finished-block counter per pair of a launch; zero between launches (the kernel resets them). */
    private long doneBuffer;
    private long doneCapacity;
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
        Driver.check(cudart.cuStreamCreate(copies, cudart.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        for (int i = 0; i < STAGING; i++) {
            uploaded[i] = new CUevent_st();
            consumed[i] = new CUevent_st();
            Driver.check(cudart.cuEventCreate(uploaded[i], cudart.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            Driver.check(cudart.cuEventCreate(consumed[i], cudart.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        }
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
        addTrusted(a, b, length, type, copyTo);
    }

    /**
     * {@link #add} without asking the driver where the ranges lie (two calls of about 2 us each): for callers that
     * know, such as the libtorch path, which checks the ranges against the tensors' sizes.
     */
    void addTrusted(long a, long b, long length, ElementType type, long copyTo) {
        requireOpen();
        queued.add(new LaunchPlan.Pair(a, b, copyTo, length, type, -1));
    }

    /** Comparisons queued and not yet launched. */
    public int pending() {
        return queued.size();
    }

    /** Launches every queued comparison: one kernel on the stream, no host synchronisation. */
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
        long partialBytes = Math.max(1, plan.chunks()) * LaunchPlan.SUMS * Double.BYTES;
        if (partialBytes > partialsCapacity) {
            retire(partialsBuffer);
            partialsCapacity = Math.max(partialBytes, 2 * partialsCapacity);
            partialsBuffer = allocate(partialsCapacity);
        }
        if (plan.count() > doneCapacity) {
            retire(doneBuffer);
            doneCapacity = Math.max(plan.count(), 2 * doneCapacity);
            doneBuffer = allocate(doneCapacity * Integer.BYTES);
            Driver.check(cudart.cuMemsetD32Async(doneBuffer, 0, doneCapacity, stream), "cuMemsetD32Async");
        }
        int slot = upload(plan.descriptors());
        kernels.launch(plan, pairsBuffer[slot], partialsBuffer, doneBuffer, block[0], stream);
        Driver.check(cudart.cuEventRecord(consumed[slot], stream), "cuEventRecord");
        launches++;
    }

    /** Launches so far (one kernel each). */
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
        cudart.cuStreamSynchronize(copies);
        if (partialsBuffer != 0) {
            cudart.cuMemFree(partialsBuffer);
        }
        if (doneBuffer != 0) {
            cudart.cuMemFree(doneBuffer);
        }
        for (int i = 0; i < STAGING; i++) {
            if (staging[i] != null) {
                cudart.cuMemFreeHost(staging[i]);
                cudart.cuMemFree(pairsBuffer[i]);
            }
            cudart.cuEventDestroy(uploaded[i]);
            cudart.cuEventDestroy(consumed[i]);
        }
        cudart.cuStreamDestroy(copies);
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
     * Copies the descriptors to the next device buffer of the ring, through its pinned staging buffer, on the copy
     * stream; the kernels' stream waits for that copy only (an event), and the copy waits for the kernel that last
     * read the same device buffer. The host waits only when it is {@value #STAGING} launches ahead of the copies.
     *
     * @return the ring slot whose device buffer holds the descriptors
     */
    private int upload(ByteBuffer descriptors) {
        int i = nextStaging;
        nextStaging = (nextStaging + 1) % STAGING;
        long bytes = descriptors.remaining();
        if (staging[i] != null) {
            Driver.check(cudart.cuEventSynchronize(uploaded[i]), "cuEventSynchronize(descriptor staging)");
        }
        if (bytes > stagingBytes[i]) {
            long size = Math.max(bytes, Math.max(64L * LaunchPlan.PAIR_BYTES, 2 * stagingBytes[i]));
            if (staging[i] != null) {
                cudart.cuMemFreeHost(staging[i]);
                retire(pairsBuffer[i]);
            }
            PointerPointer<Pointer> p = new PointerPointer<>(1);
            Driver.check(cudart.cuMemAllocHost(p, size), "cuMemAllocHost(" + size + " bytes)");
            staging[i] = p.get(0);
            stagingBytes[i] = size;
            p.close();
            pairsBuffer[i] = allocate(size);
        }
        ByteBuffer target = new BytePointer(staging[i]).capacity(stagingBytes[i]).asByteBuffer();
        target.put(descriptors);
        Driver.check(cudart.cuStreamWaitEvent(copies, consumed[i], 0), "cuStreamWaitEvent(copies)");
        Driver.check(cudart.cuMemcpyHtoDAsync(pairsBuffer[i], staging[i], bytes, copies), "cuMemcpyHtoDAsync("
                + bytes + " bytes of descriptors)");
        Driver.check(cudart.cuEventRecord(uploaded[i], copies), "cuEventRecord");
        Driver.check(cudart.cuStreamWaitEvent(stream, uploaded[i], 0), "cuStreamWaitEvent");
        return i;
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
