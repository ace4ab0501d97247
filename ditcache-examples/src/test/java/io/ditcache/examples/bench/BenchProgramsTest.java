package io.ditcache.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import org.junit.jupiter.api.Test;

/** The benchmark programs' figures on tiny inputs: what they compute is sound; no timing is asserted. */
class BenchProgramsTest {

    @Test
    void distanceBenchmarkAgreesWithTorch() {
        DistanceBenchmark.Figures f = DistanceBenchmark.run(3 << 20, 1, 3);
        assertEquals(3, f.repeats());
        assertTrue(f.maxRelDiff() < 1e-4, "fused vs torch relative difference " + f.maxRelDiff());
        assertTrue(f.fused() > 0 && f.torchL1() > 0 && f.torchAll() > 0 && f.fusedOneThread() > 0);
    }

    @Test
    void profilerDoesNotChangeTheSamples() throws Exception {
        ProbeOverheadBenchmark.Figures f = ProbeOverheadBenchmark.run(DefaultModel.load(), 2, 4, 1, 1);
        assertTrue(f.sameSamples());
        assertTrue(f.profiled() > 0 && f.plain() > 0);
    }

    @Test
    void nativeMemoryCheckReadsTheSeries() throws Exception {
        Denoiser model = DefaultModel.load();
        NativeMemoryCheck.Figures f = NativeMemoryCheck.run(model, 1, 20, 5, 5);
        assertEquals(5, f.at().length); // after 0, 5, 10, 15 and 20 steps
        assertEquals(20, f.at()[4]);
        assertTrue(f.baseline() > 0 && f.max() >= f.last() && f.nativeAtEnd() > 0);
    }

    @Test
    void fluxRealWidthTimesEveryBlockOfAProfiledStep() {
        io.ditcache.model.flux.FluxConfig tiny = new io.ditcache.model.flux.FluxConfig(1, 16, 16, 2, 2, 2, 16, 24, 8,
                true, java.util.List.of(4, 4, 8));
        FluxRealWidth.Figures f = FluxRealWidth.run(tiny, 8, 6, 3);
        assertEquals(3, f.stepMs().length);
        for (int i = 0; i < 3; i++) {
            assertEquals(2, f.doubleMs()[i].length);
            assertEquals(2, f.singleMs()[i].length);
            assertTrue(f.doubleMs()[i][1] >= 0 && f.singleMs()[i][1] >= 0 && f.stepMs()[i] > 0);
        }
        assertEquals(4 * 2, f.compared()); // 4 blocks x 2 transitions
        assertEquals(tiny.parameterCount(), f.parameters());
        assertTrue(f.peakRss() > 0);
    }
}
