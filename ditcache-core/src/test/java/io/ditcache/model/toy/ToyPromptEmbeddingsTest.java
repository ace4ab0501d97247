package io.ditcache.model.toy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ditcache.ActivationProbe;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.sample.PromptEmbeddings;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prompt embeddings from a file condition a text model, and a file the model cannot take is named. */
class ToyPromptEmbeddingsTest {
    @TempDir
    Path dir;

    static float[] values(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i * 0.7) * scale;
        }
        return v;
    }

    @Test
    void aFileOfAnotherWidthIsRefusedNamingTheFile() throws Exception {
        ToyDenoiser toy = new ToyDenoiser(2, 8, 3, ToyFamilyTest.TEXT, 4, 6,
                ToyDenoiser.randomWeights(2, 8, 3, ToyFamilyTest.TEXT, 11));
        int w = ToyFamilyTest.TEXT + 1;
        Path f = dir.resolve("wide.safetensors");
        new SafetensorsWriter().put("encoder_hidden_states", values(2 * 3 * w, 1), 2, 3, w).write(f);
        try (PromptEmbeddings e = PromptEmbeddings.read(f)) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.checkAgainst(toy));
            assertEquals(f + ": ToyTransformer2DModel refuses these embeddings: encoder_hidden_states width 7, "
                    + "ToyTransformer2DModel expects 6", x.getMessage());
        }
    }

    @Test
    void promptsTimesSeedsWithTheirNegativesAreSampled() throws Exception {
        ToyDenoiser toy = new ToyDenoiser(2, 8, 3, ToyFamilyTest.TEXT, 4, 6,
                ToyDenoiser.randomWeights(2, 8, 3, ToyFamilyTest.TEXT, 11));
        int t = ToyFamilyTest.TEXT;
        Path f = dir.resolve("prompts.safetensors");
        new SafetensorsWriter().put("encoder_hidden_states", values(2 * 3 * t, 1), 2, 3, t)
                .put("negative_encoder_hidden_states", values(3 * t, -2), 1, 3, t).write(f);
        Sampler sampler = new Sampler(toy, Schedulers.create("euler", Map.of()));
        try (PromptEmbeddings e = PromptEmbeddings.read(f)) {
            e.checkAgainst(toy);
            Samples all = sampler.sample(new SamplingOptions(e.conditions(List.of(5L, 6L), Optional.empty()), 4,
                    2.0), ActivationProbe.NONE);
            assertArrayEquals(new long[] {4, 2, 4, 6}, all.shape(), "2 prompts x 2 seeds");
            Samples third = sampler.sample(new SamplingOptions(List.of(e.condition(1, 5, Optional.empty())), 4, 2.0),
                    ActivationProbe.NONE);
            float[] a = all.sample(2);
            float[] b = third.sample(0);
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 1e-5, "sample 2 is prompt 1, seed 5, guided against the negative");
            }
        }
    }
}
