package io.ditcache.model.toy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.CacheStats;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.Policies;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A family the core has never heard of, registered only in the test resources, is loaded by its
 * {@code _class_name} and sampled and profiled by the generic sampler and profiler: the core is generic.
 */
class ToyFamilyTest {
    static final int CHANNELS = 2;
    static final int LAYERS = 3;
    static final int TEXT = 6;
    @TempDir
    static Path dir;
    static Denoiser toy;

    @BeforeAll
    static void writeAndLoad() throws Exception {
        ToyDenoiser made = new ToyDenoiser(CHANNELS, 8, LAYERS, TEXT, 4, 6,
                ToyDenoiser.randomWeights(CHANNELS, 8, LAYERS, TEXT, 11));
        CheckpointWriter.save(made, dir.resolve("toy"), Map.of("format", "pt"));
        toy = ModelLoader.load(dir.resolve("toy"));
        for (Map.Entry<String, Tensor> e : made.stateDict().entrySet()) {
            assertArrayEquals(Tensors.toFloats(e.getValue()), Tensors.toFloats(toy.stateDict().get(e.getKey())),
                    e.getKey() + " survives the checkpoint");
        }
    }

    /** One prompt of 3 tokens, the last masked out (padding), seeded by {@code seed}. */
    static Condition prompt(long seed, Optional<LatentSize> size) {
        Tensor states = torch.randn(new long[] {1, 3, TEXT}, new GeneratorOptional(torch.createCPUGenerator(seed)),
                new TensorOptions(ScalarType.Float));
        Tensor mask = Tensors.fromLongs(new long[] {1, 1, 0}, 1, 3);
        states.retainReference();
        mask.retainReference();
        return new Condition(new TextEmbeddings(states, Optional.of(mask), Optional.empty(), size), seed);
    }

    static Samples sample(List<Condition> conds, double guidance) {
        return new Sampler(toy, Schedulers.create("ddim", Map.of()))
                .sample(new SamplingOptions(conds, 5, guidance), ActivationProbe.NONE);
    }

    @Test
    void theToyIsFoundByItsClassName() {
        assertInstanceOf(ToyDenoiser.class, toy);
        assertEquals("ToyTransformer2DModel", toy.info().className());
        assertEquals(LAYERS, toy.layers());
        assertFalse(toy.info().classConditional());
        assertTrue(ModelLoader.classNames().contains("ToyTransformer2DModel"));
    }

    @Test
    void theGenericSamplerSamplesIt() {
        Condition a = prompt(1, Optional.empty());
        Condition b = prompt(2, Optional.empty());
        Samples both = sample(List.of(a, b), 3.0);
        assertArrayEquals(new long[] {2, CHANNELS, 4, 6}, both.shape(), "the toy's default, non-square size");
        for (float v : both.values()) {
            assertTrue(Float.isFinite(v));
        }
        Samples alone = sample(List.of(b), 3.0);
        float[] second = both.sample(1);
        float[] single = alone.sample(0);
        for (int i = 0; i < single.length; i++) {
            assertEquals(single[i], second[i], 1e-5, "a sample does not depend on its batch");
        }
        float[] unguided = sample(List.of(b), 1.0).sample(0);
        double diff = 0;
        for (int i = 0; i < single.length; i++) {
            diff = Math.max(diff, Math.abs(single[i] - unguided[i]));
        }
        assertTrue(diff > 1e-4, "guidance used the toy's unconditional rows: " + diff);
        Samples wide = sample(List.of(prompt(3, Optional.of(LatentSize.image(2, 10)))), 1.0);
        assertArrayEquals(new long[] {1, CHANNELS, 2, 10}, wide.shape());
    }

    @Test
    void theGenericProfilerProfilesIt() {
        SamplingOptions options = new SamplingOptions(List.of(prompt(1, Optional.empty()), prompt(2, Optional.empty())),
                6, 2.0);
        RedundancyProfile p = Profiling.run(toy, "toy", Schedulers.create("euler", Map.of()), options, null);
        assertEquals(LAYERS, p.layers());
        assertEquals("ToyTransformer2DModel", p.model().get("class_name"));
        assertEquals(toy.info().parameterCount(), ((Number) p.model().get("parameters")).longValue());
        for (Branch b : Branch.values()) {
            assertTrue(p.series().stream().anyMatch(s -> s.key().branch() == b && s.key().kind() == SiteKind.BLOCK_OUT),
                    b.name());
        }
        p.series().forEach(s -> {
            for (int l = 0; l < LAYERS; l++) {
                assertEquals(2, s.count(l, 4), s.key() + " one value per prompt");
            }
        });
    }

    @Test
    void aCachedRunOfAModelWithoutCachePointsIsRefusedByName() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> new Sampler(toy, Schedulers.create("ddim", Map.of())).sample(new SamplingOptions(
                        List.of(prompt(1, Optional.empty())), 3, 1.0), null, Policies.create("fora",
                                Map.of("interval", 2)), new CacheStats()));
        assertEquals("ToyTransformer2DModel has no cache points", e.getMessage());
    }

    @Test
    void aBadToyCheckpointIsNamed() throws Exception {
        Path bad = dir.resolve("bad");
        CheckpointWriter.save(toy, bad, Map.of());
        Path config = bad.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"num_layers\" : 3", "\"num_layers\" : 4"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(bad));
        assertTrue(e.getMessage().contains("blocks.3.weight"), e.getMessage());
    }
}
