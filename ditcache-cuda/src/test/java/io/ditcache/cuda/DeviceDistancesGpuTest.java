package io.ditcache.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * On a CUDA machine: the GPU check in its quick form (every kernel path against the kernels' order replayed on the
 * CPU bit for bit, core's CPU backend and float64; repeatability; the in-pass copy). Skipped, with the reason,
 * where there is no CUDA device.
 */
@Tag("gpu")
class DeviceDistancesGpuTest {

    @Test
    void kernelsAgreeWithTheCpuReferences() {
        assumeTrue(DeviceDistances.unavailable().isEmpty(), () -> "GPU test skipped: "
                + DeviceDistances.unavailable().orElse(""));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int failures = GpuCheck.check(new PrintStream(log, true, StandardCharsets.UTF_8), true);
        assertEquals(0, failures, log.toString(StandardCharsets.UTF_8));
    }
}
