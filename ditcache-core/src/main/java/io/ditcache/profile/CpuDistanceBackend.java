package io.ditcache.profile;

import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceBackend;
import io.ditcache.backend.DistanceSums;
import io.ditcache.internal.Tensors;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.LoggerFactory;

/**
 * The CPU backend: {@link FusedDistances} over the tensors' native memory, taken in the call by default; with
 * {@value #THREAD_PROPERTY}{@code =worker} on a thread of their own ({@link BackgroundDistances}), beside the
 * model's next work (on 2 cores, where libtorch already keeps both busy, that measured no faster).
 * Either way the sums wait in a queue until {@link DistanceAccumulator#drain()}, with the same bits. It accepts
 * tensors on any device: one that is not on the CPU is copied to host memory first, which costs a transfer per
 * activation; a device backend (ditcache-cuda) avoids it.
 */
public final class CpuDistanceBackend implements DistanceBackend {
    /**
     * System property that chooses where the sums are taken: {@code caller} (unset: the profiling thread, in
     * the call) or {@code worker} (a thread of the backend's own; CI runs the suite once that way).
     */
    public static final String THREAD_PROPERTY = "ditcache.distance.thread";
    private static volatile boolean warnedCopy;
    private final boolean background;

    /** The backend, with the thread that {@value #THREAD_PROPERTY} chooses. */
    public CpuDistanceBackend() {
        this(background(System.getProperty(THREAD_PROPERTY, "caller")));
    }

    /** The backend, summing on a thread of its own when {@code background}, else in the call. */
    CpuDistanceBackend(boolean background) {
        this.background = background;
    }

    /**
     * Whether a value of {@link #THREAD_PROPERTY} asks for the background thread.
     *
     * @throws IllegalArgumentException for a value other than {@code worker} or {@code caller}
     */
    static boolean background(String property) {
        return switch (property) {
            case "worker" -> true;
            case "caller" -> false;
            default -> throw new IllegalArgumentException("system property " + THREAD_PROPERTY + " = '" + property
                    + "': expected worker or caller");
        };
    }

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
        return background ? new BackgroundDistances() : new Accumulator();
    }

    /**
     * The accumulator that sums in the call; it also takes blocks' residuals from their outputs and inputs
     * ({@link #addResidualRows}), which the profiler then need not store.
     */
    static final class Accumulator implements DistanceAccumulator {
        private final SumsQueue queued = new SumsQueue();

        @Override
        public void add(Tensor a, long aOffset, Tensor b, long bOffset, long length) {
            DistanceAccumulator.checkRange("a", a.numel(), aOffset, length);
            DistanceAccumulator.checkRange("b", b.numel(), bOffset, length);
            Tensor ha = onHost(a);
            Tensor hb = onHost(b);
            queued.add(FusedDistances.compute(ha.data_ptr_float(), aOffset, hb.data_ptr_float(), bOffset, length));
        }

        /** Every row in one call of {@link FusedDistances#computeRows}: one host check and pointer per tensor. */
        @Override
        public void addRows(Tensor a, long[] aOffsets, Tensor b, long[] bOffsets, int count, long length) {
            long aNumel = a.numel();
            long bNumel = b.numel();
            DistanceAccumulator.checkRows(aNumel, aOffsets, bNumel, bOffsets, count, length);
            if (count == 0) {
                return;
            }
            Tensor ha = onHost(a);
            Tensor hb = onHost(b);
            FusedDistances.computeRows(ha.data_ptr_float(), aNumel, aOffsets, hb.data_ptr_float(), bNumel, bOffsets,
                    count, length, queued);
        }

        /**
         * Whether {@link #addResidualRows} takes a block's output and input with rows of {@code length} floats:
         * both float32, contiguous, in host memory and of one shape, of a size {@link FusedDistances#takesResiduals}
         * takes. (Each call's pair is checked in its own call, the earlier one when it was the later.)
         */
        boolean takesResiduals(Tensor output, Tensor input, long length) {
            return plain(output) && plain(input) && Arrays.equals(Tensors.shape(output),
                    Tensors.shape(input)) && FusedDistances.takesResiduals(output.numel(), length);
        }

        private static boolean plain(Tensor t) {
            return t.is_cpu() && t.scalar_type().intern() == ScalarType.Float && t.is_contiguous();
        }

        /**
         * Queues the sums of {@code count} row pairs of two blocks' residuals, {@code aOut - aIn} (step i) against
         * {@code bOut - bIn} (step i+1), exactly as {@link #addRows} over the stored residuals would, without
         * storing them. Each pair must be one {@link #takesResiduals} took.
         *
         * @throws IllegalArgumentException when a range lies outside its tensor
         */
        void addResidualRows(Tensor aOut, Tensor aIn, long[] aOffsets, Tensor bOut, Tensor bIn, long[] bOffsets,
                int count, long length) {
            long aNumel = aOut.numel();
            long bNumel = bOut.numel();
            DistanceAccumulator.checkRows(aNumel, aOffsets, bNumel, bOffsets, count, length);
            if (count > 0) {
                FusedDistances.computeResidualRows(aOut.data_ptr_float(), aIn.data_ptr_float(), aNumel, aOffsets,
                        bOut.data_ptr_float(), bIn.data_ptr_float(), bNumel, bOffsets, count, length, queued);
            }
        }

        @Override
        public List<DistanceSums> drain() {
            return queued.drain();
        }

        @Override
        public void close() {
            queued.clear();
        }
    }

    /** The tensor itself where it is in host memory, else a host copy (said once per process). */
    static Tensor onHost(Tensor t) {
        if (t.is_cpu()) {
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
}
