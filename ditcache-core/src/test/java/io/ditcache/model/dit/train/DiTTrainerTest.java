package io.ditcache.model.dit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.data.ImageSet;
import io.ditcache.internal.Tensors;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.train.TrainingOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the training path honest on the committed MNIST slice. */
class DiTTrainerTest {
    static final DiTConfig SMALL = new DiTConfig(28, 7, 1, 1, 2, 2, 16, 10, 1e-5, true);

    static ImageSet slice(Path dir) throws IOException {
        Fixtures.copy("/fixtures/mnist/t10k-images-idx3-ubyte", dir.resolve("t10k-images-idx3-ubyte"));
        Fixtures.copy("/fixtures/mnist/t10k-labels-idx1-ubyte", dir.resolve("t10k-labels-idx1-ubyte"));
        return ImageSet.split(dir, false);
    }

    static float[] flat(DiTModel m) {
        return m.stateDict().values().stream().map(Tensors::toFloats).reduce(new float[0], (a, b) -> {
            float[] c = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, c, a.length, b.length);
            return c;
        });
    }

    @Test
    void sliceReadsAsMnist(@TempDir Path dir) throws IOException {
        ImageSet s = slice(dir);
        assertEquals(256, s.size());
        assertEquals(28, s.height());
        assertEquals(7, s.labels()[0], "the first MNIST test digit is a 7");
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : s.pixels()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(-1f, min);
        assertEquals(1f, max);
    }

    @Test
    void oneStepHasAFiniteLossAndChangesTheWeights(@TempDir Path dir) throws IOException {
        ImageSet data = slice(dir);
        DiTTrainer t = new DiTTrainer(SMALL, new TrainingOptions(1, 16, 1e-3, 0, 0, 0.999, 0.1, 7));
        float[] before = flat(t.model());
        double loss = t.trainStep(data);
        assertTrue(Double.isFinite(loss) && loss > 0, "loss " + loss);
        assertEquals(1, t.step());
        float[] after = flat(t.model());
        assertFalse(Arrays.equals(before, after), "weights changed");
        for (float v : after) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void resumedRunEqualsUninterruptedRun(@TempDir Path dir) throws IOException {
        ImageSet data = slice(dir);
        TrainingOptions o = new TrainingOptions(4, 8, 1e-3, 2, 0.01, 0.9, 0.1, 3);
        DiTTrainer straight = new DiTTrainer(SMALL, o);
        for (int i = 0; i < 4; i++) {
            straight.trainStep(data);
        }
        DiTTrainer first = new DiTTrainer(SMALL, o);
        first.trainStep(data);
        first.trainStep(data);
        Path state = dir.resolve("state.safetensors");
        first.saveState(state);
        DiTTrainer resumed = DiTTrainer.resume(SMALL, o, state);
        assertEquals(2, resumed.step());
        resumed.trainStep(data);
        resumed.trainStep(data);
        assertArrayEquals(flat(straight.model()), flat(resumed.model()));
        assertArrayEquals(flat(straight.ema()), flat(resumed.ema()));
    }

    @Test
    void savedModelLoadsAsADiffusersCheckpoint(@TempDir Path dir) throws IOException {
        DiTTrainer t = new DiTTrainer(SMALL, TrainingOptions.defaults(1));
        t.saveModel(dir.resolve("m"), Map.of());
        DiTModel loaded = (DiTModel) ModelLoader.load(dir.resolve("m"));
        assertArrayEquals(flat(t.ema()), flat(loaded));
        IOException e = assertThrows(IOException.class, () -> DiTTrainer.resume(
                new DiTConfig(28, 7, 1, 1, 3, 2, 16, 10, 1e-5, true), TrainingOptions.defaults(1),
                writeState(t, dir.resolve("s.safetensors"))));
        assertTrue(e.getMessage().contains("state is for"), e.getMessage());
    }

    private static Path writeState(DiTTrainer t, Path file) throws IOException {
        t.saveState(file);
        return file;
    }
}
