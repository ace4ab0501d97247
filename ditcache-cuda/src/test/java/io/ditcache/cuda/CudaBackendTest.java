package io.ditcache.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ditcache.backend.DistanceBackend;
import io.ditcache.backend.DistanceBackends;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * On a machine without CUDA the backend is found, says why it cannot run in one line, accepts nothing, and core's
 * CPU backend takes every activation; nothing else changes.
 */
class CudaBackendTest {

    @Test
    void isFoundByServiceLoaderAheadOfTheCpuBackend() {
        List<DistanceBackend> all = DistanceBackends.available();
        assertEquals("cuda", all.get(0).name(), "highest priority first: " + all.stream().map(
                DistanceBackend::name).toList());
        assertTrue(all.stream().anyMatch(b -> b.name().startsWith("cpu")));
    }

    @Test
    void withoutCudaItSaysSoInOneLineAndCoreFallsBack() {
        assumeTrue(DeviceDistances.unavailable().isPresent(), "this machine has a CUDA device");
        String why = DeviceDistances.unavailable().get();
        assertTrue(why.startsWith("no CUDA device"), why);
        assertFalse(why.contains("\n"), why);
        Tensor t = torch.ones(4);
        assertFalse(new CudaDistanceBackend().accepts(t));
        assertTrue(DistanceBackends.forActivation(t).name().startsWith("cpu"));
        CudaException e = assertThrows(CudaException.class, () -> new DeviceDistances(0, 0));
        assertTrue(e.getMessage().startsWith("no CUDA device"), e.getMessage());
    }

    @Test
    void readsHalfTypesAsTheyAre() {
        CudaDistanceBackend b = new CudaDistanceBackend();
        assertTrue(b.reads(torch.ones(3).to(torch.ScalarType.BFloat16)));
        assertTrue(b.reads(torch.ones(3).to(torch.ScalarType.Half)));
        assertFalse(b.reads(torch.ones(3).to(torch.ScalarType.Double)));
        assertFalse(b.reads(torch.ones(3, 4).t()), "not contiguous");
    }
}
