package io.ditcache.cuda;

import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceSums;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * The {@link DistanceAccumulator} of {@link CudaDistanceBackend}: comparisons of libtorch CUDA tensors queued on
 * {@link DeviceDistances} for the tensors' device and libtorch's current stream there. The tensors of queued
 * comparisons are held (a reference each) until they are launched: at {@link #submit()} (the profiler calls it once
 * per step, so that a step's sites go in one launch), when the held activations pass {@value #HELD_BYTES_LIMIT}
 * bytes, and at {@link #drain()}. After the launch they are let go; the caching allocator orders any reuse of their
 * memory after the kernels, on the same stream.
 */
final class TensorDistances implements DistanceAccumulator {
    static final long HELD_BYTES_LIMIT = 1L << 30;

    private final List<Tensor> held = new ArrayList<>();
    private long heldBytes;
    private DeviceDistances distances;
    private int device = -1;
    private long stream;
    /** Results read back early (device or stream changed), waiting for drain(). */
    private final List<DistanceSums> early = new ArrayList<>();

    /** The kernels' element type of a tensor, or null when they do not read it. */
    static ElementType type(Tensor t) {
        ScalarType s = t.scalar_type().intern();
        if (s == ScalarType.Float) {
            return ElementType.FLOAT32;
        }
        if (s == ScalarType.Half) {
            return ElementType.FLOAT16;
        }
        if (s == ScalarType.BFloat16) {
            return ElementType.BFLOAT16;
        }
        return null;
    }

    @Override
    public void add(Tensor a, long aOffset, Tensor b, long bOffset, long length) {
        addRows(a, new long[] {aOffset}, b, new long[] {bOffset}, 1, length);
    }

    /** Every row of one tensor pair: the checks, the stream and the references once, then one pair per row. */
    @Override
    public void addRows(Tensor a, long[] aOffsets, Tensor b, long[] bOffsets, int count, long length) {
        DistanceAccumulator.checkCount(count, aOffsets, bOffsets);
        for (int r = 0; r < count; r++) {
            DistanceAccumulator.checkRange("a", a.numel(), aOffsets[r], length);
            DistanceAccumulator.checkRange("b", b.numel(), bOffsets[r], length);
        }
        ElementType type = type(a);
        if (type == null || type != type(b) || !a.is_contiguous() || !b.is_contiguous()) {
            throw new IllegalArgumentException("the CUDA distance kernels compare two contiguous tensors of one type "
                    + "(float32, float16 or bfloat16), not " + a.scalar_type().intern() + " and "
                    + b.scalar_type().intern());
        }
        int dev = a.device().index();
        if (b.device().index() != dev) {
            throw new IllegalArgumentException("distance operands on devices cuda:" + dev + " and cuda:"
                    + b.device().index());
        }
        long s = torch_cuda.getCurrentCUDAStream((byte) dev).stream().address();
        if (distances == null || dev != device || s != stream) {
            if (distances != null) {
                early.addAll(distances.read());
                distances.close();
                release();
            }
            distances = new DeviceDistances(dev, s);
            device = dev;
            stream = s;
        }
        long elem = type.bytes();
        long pa = a.data_ptr().address();
        long pb = b.data_ptr().address();
        for (int r = 0; r < count; r++) {
            // the ranges were checked against the tensors' sizes above
            distances.addTrusted(pa + aOffsets[r] * elem, pb + bOffsets[r] * elem, length, type, 0);
        }
        held.add(new Tensor(a));
        held.add(new Tensor(b));
        heldBytes += (a.numel() + b.numel()) * elem;
        if (heldBytes > HELD_BYTES_LIMIT) {
            submit();
        }
    }

    @Override
    public void submit() {
        if (distances != null) {
            distances.submit();
        }
        release();
    }

    @Override
    public List<DistanceSums> drain() {
        List<DistanceSums> out = new ArrayList<>(early);
        early.clear();
        if (distances != null) {
            out.addAll(distances.read());
        }
        release();
        return out;
    }

    private void release() {
        for (Tensor t : held) {
            t.close();
        }
        held.clear();
        heldBytes = 0;
    }

    @Override
    public void close() {
        if (distances != null) {
            distances.close();
            distances = null;
        }
        release();
        early.clear();
    }
}
