package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Float32Drift;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.dit.DefaultDiT;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped default loads with its layout, samples what it sampled when it was shipped (on another machine:
 * within {@link Float32Drift}), and samples bit for bit the same twice on one machine.
 */
class DefaultModelTest {

    @Test
    void embeddedModelSamplesAsRecordedWhenShippedAndTheSameTwiceHere(@TempDir Path dir) throws Exception {
        DiTModel shipped = (DiTModel) DefaultModel.load();
        assertEquals(DefaultDiT.CONFIG, shipped.config());
        Path golden = Fixtures.copy("/fixtures/default-model-samples.safetensors", dir.resolve("golden.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(golden)) {
            Map<String, String> md = f.metadata();
            List<Integer> labels = Arrays.stream(md.get("labels").split(",")).map(Integer::valueOf).toList();
            List<Long> seeds = Arrays.stream(md.get("seeds").split(",")).map(Long::valueOf).toList();
            SamplingOptions options = new SamplingOptions(SamplingOptions.grid(labels, seeds),
                    Integer.parseInt(md.get("steps")), Double.parseDouble(md.get("guidance")));
            Samples s = new Sampler(shipped, Schedulers.create(md.get("scheduler"), Map.of()))
                    .sample(options, ActivationProbe.NONE);
            Samples again = new Sampler(shipped, Schedulers.create(md.get("scheduler"), Map.of()))
                    .sample(options, ActivationProbe.NONE);
            assertArrayEquals(s.values(), again.values(), 0f, "same machine, same batch: bit for bit");
            assertArrayEquals(f.info("samples").dims(), s.shape());
            double drift = Float32Drift.maxRelativeDifference(f.floats("samples"), s.values());
            double tol = Float32Drift.tolerance(options.steps(), options.guidance());
            assertTrue(drift <= tol, "recorded on another machine: drift " + drift + " within " + tol);
        }
    }

    @Test
    void randomReferenceHasTheLayoutButOtherWeights() throws Exception {
        DiTModel shipped = (DiTModel) DefaultModel.load();
        DiTModel random = DefaultDiT.randomReference();
        assertEquals(shipped.config(), random.config());
        String key = "transformer_blocks.0.attn1.to_k.weight";
        assertFalse(Arrays.equals(Tensors.toFloats(shipped.stateDict().get(key)),
                Tensors.toFloats(random.stateDict().get(key))));
    }
}
