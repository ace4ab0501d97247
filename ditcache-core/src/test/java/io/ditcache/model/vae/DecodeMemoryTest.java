package io.ditcache.model.vae;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.model.ComputeType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * Decoding frees each intermediate as soon as the next exists: the peak resident memory of a full-size decode stays
 * within a few activations of the largest layer, not one activation per layer run (as it would if a block's
 * intermediates lived until the sample ends). Linux: the peak is read from {@code /proc/self/status} after resetting
 * it through {@code /proc/self/clear_refs}.
 */
@EnabledOnOs(OS.LINUX)
class DecodeMemoryTest {
    private static final long MIB = 1 << 20;

    @Test
    void fullSizeDecodeHoldsAFewActivationsAtMost() throws IOException {
        int width = 48;
        int side = 512;
        VaeConfig c = new VaeConfig(3, 3, 4, List.of(width, width, width), 1, 8, 1.0, 0.0, false, false, true, List.of(),
                List.of());
        AutoencoderKL vae = new AutoencoderKL(c, ComputeType.FLOAT32);
        long activation = (long) width * side * side * Float.BYTES; // one full-size activation: 48 MiB
        try (PointerScope scope = new PointerScope()) {
            Tensor z = torch.randn(1, 4, side / 4, side / 4);
            vae.decode(z).close(); // the first run's one-off allocations (kernels' caches) are not what we measure
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            long before = kib("VmRSS:") * 1024;
            vae.decode(z).close();
            long peak = kib("VmHWM:") * 1024;
            long growth = peak - before;
            System.out.printf("vae decode %dx%d, width %d: peak %d MiB above the %d MiB before (%.1f activations)%n",
                    side, side, width, growth / MIB, before / MIB, (double) growth / activation);
            // freed promptly: about 4.5 activations (input, output, one intermediate, the convolution's workspace);
            // with a norm output kept alive per block until the sample ends it was 9.4
            assertTrue(growth <= 6.5 * activation, "decoding grew resident memory by " + growth / MIB
                    + " MiB, more than 6.5 full-size activations of " + activation / MIB + " MiB");
        }
    }

    private static long kib(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
