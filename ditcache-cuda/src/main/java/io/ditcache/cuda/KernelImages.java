package io.ditcache.cuda;

import static org.bytedeco.cuda.global.nvrtc.NVRTC_SUCCESS;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The distance kernels' machine code for a device: a cubin packaged in the jar for its compute capability (built by
 * nvcc for sm_80, sm_86, sm_89 and sm_90), else the packaged PTX (compute_80) that the driver compiles, else the
 * packaged source compiled here with NVRTC. System property {@value #PROPERTY} ({@code auto}, {@code cubin},
 * {@code ptx} or {@code nvrtc}) forces one path.
 */
final class KernelImages {
    static final String PROPERTY = "ditcache.cuda.kernels";
    static final String FOLDER = "kernels/";
    /** The compute capabilities of the packaged cubins, as the build names them. */
    static final int[] CUBINS = {80, 86, 89, 90};
    static final int PTX = 80;

    /** Machine code or PTX, and where it came from, for messages and reports. */
    record Image(String origin, byte[] bytes) {
    }

    private KernelImages() {
    }

    /** The packaged cubin for this compute capability: the newest of the same major version not above it. */
    static String cubinFor(int capability) {
        int best = -1;
        for (int c : CUBINS) {
            if (c / 10 == capability / 10 && c % 10 <= capability % 10 && c > best) {
                best = c;
            }
        }
        return best < 0 ? null : "distances.sm_" + best + ".cubin";
    }

    /**
     * The images to try for a device of this compute capability, best first.
     *
     * @throws CudaException when none can be had (nothing packaged fits and NVRTC cannot be loaded)
     */
    static List<Image> candidates(int capability) {
        String mode = System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT);
        if (!List.of("auto", "cubin", "ptx", "nvrtc").contains(mode)) {
            throw new IllegalArgumentException(PROPERTY + " is \"" + mode + "\", expected auto, cubin, ptx or nvrtc");
        }
        List<Image> out = new ArrayList<>();
        String cubin = cubinFor(capability);
        if ((mode.equals("auto") || mode.equals("cubin")) && cubin != null) {
            byte[] b = resource(cubin);
            if (b != null) {
                out.add(new Image("packaged cubin " + cubin, b));
            }
        }
        if ((mode.equals("auto") || mode.equals("ptx")) && capability >= PTX) {
            byte[] b = resource("distances.compute_" + PTX + ".ptx");
            if (b != null) {
                out.add(new Image("packaged PTX compute_" + PTX + " (compiled by the driver)", nulTerminated(b)));
            }
        }
        if (mode.equals("auto") || mode.equals("nvrtc")) {
            out.add(null); // compiled on demand with NVRTC: see compiled()
        }
        if (out.isEmpty()) {
            throw new CudaException("no distance kernel for compute capability " + capability / 10 + "."
                    + capability % 10 + " with " + PROPERTY + "=" + mode + " (packaged cubins: sm_80, sm_86, sm_89, "
                    + "sm_90; PTX compute_80)");
        }
        return out;
    }

    /** The packaged kernel source. */
    static String source() {
        byte[] b = resource("distances.cu");
        if (b == null) {
            throw new CudaException("the kernel source " + FOLDER + "distances.cu is missing from ditcache-cuda's jar");
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The source compiled by NVRTC into a cubin for this compute capability. */
    static Image compiled(int capability) {
        try {
            return nvrtcCompile(capability);
        } catch (LinkageError e) {
            throw new CudaException("no packaged distance kernel fits compute capability " + capability / 10 + "."
                    + capability % 10 + " and NVRTC cannot be loaded (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); add org.bytedeco:cuda-redist or the CUDA toolkit's libnvrtc");
        }
    }

    private static Image nvrtcCompile(int capability) {
        _nvrtcProgram program = new _nvrtcProgram();
        check(nvrtc.nvrtcCreateProgram(program, new BytePointer(source()), new BytePointer("distances.cu"), 0,
                (PointerPointer<?>) null, (PointerPointer<?>) null), "nvrtcCreateProgram");
        try {
            String arch = "--gpu-architecture=sm_" + capability;
            PointerPointer<BytePointer> options = new PointerPointer<>(new BytePointer(arch));
            int rc = nvrtc.nvrtcCompileProgram(program, 1, options);
            if (rc != NVRTC_SUCCESS) {
                throw new CudaException("NVRTC could not compile distances.cu for sm_" + capability + ": "
                        + nvrtc.nvrtcGetErrorString(rc).getString() + "; log: " + log(program));
            }
            SizeTPointer size = new SizeTPointer(1);
            check(nvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
            byte[] cubin = new byte[(int) size.get()];
            BytePointer out = new BytePointer(size.get());
            check(nvrtc.nvrtcGetCUBIN(program, out), "nvrtcGetCUBIN");
            out.get(cubin);
            int[] major = new int[1];
            int[] minor = new int[1];
            nvrtc.nvrtcVersion(major, minor);
            return new Image("NVRTC " + major[0] + "." + minor[0] + " cubin sm_" + capability, cubin);
        } finally {
            nvrtc.nvrtcDestroyProgram(program);
        }
    }

    private static String log(_nvrtcProgram program) {
        SizeTPointer size = new SizeTPointer(1);
        if (nvrtc.nvrtcGetProgramLogSize(program, size) != NVRTC_SUCCESS || size.get() <= 1) {
            return "(empty)";
        }
        BytePointer log = new BytePointer(size.get());
        nvrtc.nvrtcGetProgramLog(program, log);
        return log.getString();
    }

    private static void check(int rc, String call) {
        if (rc != NVRTC_SUCCESS) {
            throw new CudaException(call + " failed: " + nvrtc.nvrtcGetErrorString(rc).getString());
        }
    }

    /** Sizes of the packaged kernel files, for reports: name and bytes, absent ones left out. */
    static List<String> packaged() {
        List<String> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int c : CUBINS) {
            names.add("distances.sm_" + c + ".cubin");
        }
        names.add("distances.compute_" + PTX + ".ptx");
        names.add("distances.cu");
        for (String n : names) {
            byte[] b = resource(n);
            if (b != null) {
                out.add(n + " (" + b.length + " bytes)");
            }
        }
        return out;
    }

    static byte[] resource(String name) {
        try (InputStream in = KernelImages.class.getResourceAsStream(FOLDER + name)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + FOLDER + name + " from ditcache-cuda's jar", e);
        }
    }

    private static byte[] nulTerminated(byte[] text) {
        byte[] b = java.util.Arrays.copyOf(text, text.length + 1);
        b[text.length] = 0;
        return b;
    }
}
