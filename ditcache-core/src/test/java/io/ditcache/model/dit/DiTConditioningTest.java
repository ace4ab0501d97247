package io.ditcache.model.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.LatentSize;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** The DiT as a denoiser: class labels only, the null class for guidance, non-square latents. */
class DiTConditioningTest {
    static final DiTConfig TINY = new DiTConfig(8, 2, 1, 2, 2, 2, 8, 3, 1e-5, true);

    @Test
    void latentShapeFollowsTheAskedSize() {
        DiTModel m = new DiTModel(TINY);
        assertArrayEquals(new long[] {1, 8, 8}, m.latentShape(ClassLabels.of(0, 2)));
        assertArrayEquals(new long[] {1, 6, 10}, m.latentShape(ClassLabels.of(1).at(LatentSize.image(6, 10))));
        String e = assertThrows(IllegalArgumentException.class,
                () -> m.latentShape(ClassLabels.of(3))).getMessage();
        assertTrue(e.contains("class label 3 out of range [0, 3)"), e);
        e = assertThrows(IllegalArgumentException.class,
                () -> m.latentShape(ClassLabels.of(1).at(LatentSize.image(6, 7)))).getMessage();
        assertTrue(e.contains("multiples of patch_size 2"), e);
        e = assertThrows(IllegalArgumentException.class,
                () -> m.latentShape(ClassLabels.of(1).at(new LatentSize(4, 6, 6)))).getMessage();
        assertTrue(e.contains("expected 1 frame"), e);
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings text = TextEmbeddings.of(torch.zeros(new long[] {1, 2, 4}, new TensorOptions(ScalarType.Float)));
            e = assertThrows(IllegalArgumentException.class, () -> m.latentShape(text)).getMessage();
            assertEquals("DiTTransformer2DModel is conditioned on class labels, not TextEmbeddings", e);
        }
    }

    @Test
    void theUnconditionalBranchIsTheNullClassAtTheSameSize() {
        DiTModel m = new DiTModel(TINY);
        LatentSize wide = LatentSize.image(4, 12);
        assertEquals(ClassLabels.of(3, 3).at(wide), m.unconditional(ClassLabels.of(0, 2).at(wide)));
    }

    @Test
    void aNonSquareSampleHasTheAskedShape() {
        DiTModel m = DefaultDiT.randomReference();
        Condition wide = new Condition(ClassLabels.of(2).at(LatentSize.image(12, 20)), 5);
        Samples s = new Sampler(m, Schedulers.create("ddim", Map.of()))
                .sample(new SamplingOptions(List.of(wide, new Condition(ClassLabels.of(7).at(LatentSize.image(12, 20)),
                        6)), 3, 2.0), ActivationProbe.NONE);
        assertArrayEquals(new long[] {2, 1, 12, 20}, s.shape());
        for (float v : s.values()) {
            assertTrue(Float.isFinite(v));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(m, Schedulers.create("ddim", Map.of())).sample(new SamplingOptions(
                        List.of(wide, new Condition(1, 0)), 3, 1.0), ActivationProbe.NONE));
        assertTrue(e.getMessage().contains("one batch has one latent size"), e.getMessage());
    }
}
