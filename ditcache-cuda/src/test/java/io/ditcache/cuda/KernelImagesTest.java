package io.ditcache.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Which packaged image a device gets, and that the build packaged real cubins where nvcc was there. */
class KernelImagesTest {

    @Test
    void aDeviceGetsTheNewestCubinOfItsMajorVersionNotAboveIt() {
        assertEquals("distances.sm_90.cubin", KernelImages.cubinFor(90));
        assertEquals("distances.sm_89.cubin", KernelImages.cubinFor(89));
        assertEquals("distances.sm_86.cubin", KernelImages.cubinFor(87));
        assertEquals("distances.sm_80.cubin", KernelImages.cubinFor(80));
        assertNull(KernelImages.cubinFor(75), "Turing: no cubin (PTX compute_80 does not run there either)");
        assertNull(KernelImages.cubinFor(100), "Blackwell: the PTX, compiled by the driver");
    }

    @Test
    void theSourceTravelsInTheJar() {
        assertTrue(KernelImages.source().contains("ditcache_distance_partials"));
    }

    @Test
    void cubinsArePackagedForEveryArchitectureWhenNvccBuiltThem() throws Exception {
        assumeTrue(nvccPresent(), "nvcc is not on this machine: the build packages no cubins (NVRTC compiles the "
                + "kernels at run time)");
        for (int cc : KernelImages.CUBINS) {
            byte[] cubin = KernelImages.resource("distances.sm_" + cc + ".cubin");
            assertNotNull(cubin, "sm_" + cc + " cubin");
            assertTrue(cubin.length > 1000);
            assertTrue(Arrays.equals(Arrays.copyOf(cubin, 4), new byte[] {0x7f, 'E', 'L', 'F'}), "an ELF file");
            int machine = (cubin[18] & 0xff) | (cubin[19] & 0xff) << 8;
            assertEquals(190, machine, "e_machine EM_CUDA");
        }
        byte[] ptx = KernelImages.resource("distances.compute_80.ptx");
        assertNotNull(ptx);
        String text = new String(ptx, java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(text.contains(".target sm_80") && text.contains(".entry ditcache_distance_fold"));
        assertEquals(6, KernelImages.packaged().size(), String.valueOf(KernelImages.packaged()));
    }

    static boolean nvccPresent() {
        if (Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"))) {
            return true;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        return false;
    }
}
