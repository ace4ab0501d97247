package io.ditcache.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.backend.RecordingBackend;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where a device backend takes the tensors (here the test's recording backend, which stands where ditcache-cuda does
 * on a GPU), a cache signal's relative L1 change is summed by the backend: both streams of every row queued, one
 * drain (one host synchronisation) per signal, and the same values as the host's float64 loop.
 */
class RelativeChangeBackendTest {

    @AfterEach
    void disable() {
        RecordingBackend.ENABLED.set(false);
        RecordingBackend.EVENTS.clear();
    }

    @Test
    void aDeviceBackendSumsBothStreamsOfEveryRowWithOneReadBack() {
        try (PointerScope scope = new PointerScope(); RelativeChange host = new RelativeChange();
                RelativeChange device = new RelativeChange()) {
            torch.manual_seed(3);
            Tensor imageNow = torch.randn(3, 7, 5);
            Tensor imageRef = imageNow.add(torch.randn(3, 7, 5).mul(new org.bytedeco.pytorch.Scalar(0.1)));
            Tensor textNow = torch.randn(3, 4, 5);
            Tensor textRef = torch.randn(3, 4, 5);
            Streams now = new Streams(imageNow, textNow);
            Streams ref = new Streams(imageRef, textRef);
            double[] want = host.of(now, ref);
            RecordingBackend.ENABLED.set(true);
            double[] got = device.of(now, ref);
            double[] again = device.of(now, ref);
            for (int r = 0; r < 3; r++) {
                assertEquals(want[r], got[r], 1e-6 * want[r], "row " + r);
                assertEquals(got[r], again[r], 0.0);
            }
            List<String> events = RecordingBackend.EVENTS;
            assertEquals(2 * (2 * 3 + 1), events.size(), String.valueOf(events));
            assertEquals("drain 6", events.get(6), "image rows, then text rows, then one read-back: " + events);
            assertTrue(events.get(0).equals("add 0 0 35") && events.get(3).equals("add 0 0 20"), String.valueOf(
                    events));
        }
    }
}
