package io.ditcache.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.util.Optional;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The CUDA driver API as ditcache-cuda uses it: whether a driver and a device are there (asked once, never
 * throwing), each device's primary context (the one libtorch uses), its compute capability, and error checks that
 * name the call.
 */
final class Driver {
    private Driver() {
    }

    /** Why CUDA cannot be used here, once: empty when a driver and at least one device are present. */
    private static final class Probe {
        static final Optional<String> UNAVAILABLE = probe();

        private static Optional<String> probe() {
            try {
                int rc = cudart.cuInit(0);
                if (rc != CUDA_SUCCESS) {
                    return Optional.of("no CUDA device (cuInit: " + errorName(rc) + ")");
                }
                int[] count = new int[1];
                rc = cudart.cuDeviceGetCount(count);
                if (rc != CUDA_SUCCESS || count[0] == 0) {
                    return Optional.of("no CUDA device");
                }
                return Optional.empty();
            } catch (LinkageError e) {
                // UnsatisfiedLinkError (no libcuda.so.1, no libcudart) or NoClassDefFoundError (no cuda jar)
                return Optional.of("no CUDA device (the CUDA driver or the org.bytedeco:cuda natives cannot be loaded: "
                        + firstLine(e) + ")");
            }
        }
    }

    /** Empty when CUDA is usable; otherwise one line saying why not, starting with "no CUDA device". */
    static Optional<String> unavailable() {
        return Probe.UNAVAILABLE;
    }

    /** Makes the device's primary context current on this thread (libtorch's context for that device). */
    static void useDevice(int device) {
        requireAvailable();
        CUctx_st ctx = new CUctx_st();
        check(cudart.cuDevicePrimaryCtxRetain(ctx, device), "cuDevicePrimaryCtxRetain(device " + device + ")");
        check(cudart.cuCtxSetCurrent(ctx), "cuCtxSetCurrent(device " + device + ")");
    }

    /** The device's compute capability as {@code 10 * major + minor} (90 for an H100 or H200). */
    static int computeCapability(int device) {
        return 10 * attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability major")
                + attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability minor");
    }

    static int multiprocessors(int device) {
        return attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "multiprocessor count");
    }

    static String name(int device) {
        requireAvailable();
        byte[] name = new byte[256];
        check(cudart.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int n = 0;
        while (n < name.length && name[n] != 0) {
            n++;
        }
        return new String(name, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static int attribute(int device, int attribute, String what) {
        requireAvailable();
        int[] v = new int[1];
        check(cudart.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute(" + what + ")");
        return v[0];
    }

    static void requireAvailable() {
        unavailable().ifPresent(why -> {
            throw new CudaException(why);
        });
    }

    /** Throws a {@link CudaException} naming the call and the driver's error unless {@code rc} is success. */
    static void check(int rc, String call) {
        if (rc != CUDA_SUCCESS) {
            String description = text(rc, false);
            throw new CudaException(call + " failed with " + errorName(rc)
                    + (description == null ? "" : ": " + description));
        }
    }

    static String errorName(int rc) {
        String name = text(rc, true);
        return name == null ? "CUDA error " + rc : name + " (" + rc + ")";
    }

    /** The driver's name or description of an error code; null when it has none. */
    private static String text(int rc, boolean name) {
        try (PointerPointer<BytePointer> s = new PointerPointer<>(1)) {
            int r = name ? cudart.cuGetErrorName(rc, s) : cudart.cuGetErrorString(rc, s);
            Pointer p = s.get(0);
            return r == CUDA_SUCCESS && p != null && !p.isNull() ? new BytePointer(p).getString() : null;
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }
}
