package io.ditcache.model.dit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.DType;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forward inputs read from a file are checked against the model before any is loaded: dtypes, shapes, batch
 * agreement, memory, then timestep and label values; each refusal names the file, the tensor and the value.
 */
class DiTInputsTest {
    /** The fixture DiT's layout: 8x8 latents of 4 channels, patch 2, inner dim 32, 10 classes. */
    static final DiTConfig CONFIG = new DiTConfig(8, 2, 4, 8, 4, 2, 16, 10, 1e-5, true);

    @TempDir
    Path dir;

    /** Two valid rows, with {@code replace} writing the tensors it names instead of the valid ones. */
    private Path inputs(Consumer<SafetensorsWriter> replace, String... replaced) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        replace.accept(w);
        List<String> r = List.of(replaced);
        if (!r.contains("hidden_states")) {
            w.put("hidden_states", new float[2 * 4 * 8 * 8], 2, 4, 8, 8);
        }
        if (!r.contains("timestep")) {
            w.put("timestep", new long[] {0, 999}, 2);
        }
        if (!r.contains("class_labels")) {
            w.put("class_labels", new long[] {3, 10}, 2);
        }
        Path f = Files.createTempFile(dir, "inputs", ".safetensors");
        w.write(f);
        return f;
    }

    private static String refused(Path f, int trainTimesteps) throws IOException {
        try (SafetensorsFile in = SafetensorsFile.open(f)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> DiTInputs.check(in, CONFIG, trainTimesteps)).getMessage();
            assertTrue(m.startsWith(f + ": "), m);
            assertFalse(m.contains("\n"), m);
            return m;
        }
    }

    private String refused(Consumer<SafetensorsWriter> replace, String... replaced) throws IOException {
        return refused(inputs(replace, replaced), 1000);
    }

    private static byte[] ints(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return b.array();
    }

    @Test
    void validInputsPassIncludingOtherIntegerAndFloatDtypes() throws IOException {
        for (Path f : new Path[] {inputs(w -> { }), inputs(w -> w.putBytes("class_labels", DType.I32, ints(0, 9), 2)
                .put("timestep", new double[] {999.5}, 1), "class_labels", "timestep")}) {
            try (SafetensorsFile in = SafetensorsFile.open(f)) {
                assertDoesNotThrow(() -> DiTInputs.check(in, CONFIG, 1000));
            }
        }
    }

    @Test
    void integerHiddenStatesAreRefusedNotConverted() throws IOException {
        assertTrue(refused(w -> w.put("hidden_states", new long[2 * 4 * 8 * 8], 2, 4, 8, 8), "hidden_states")
                .contains(
                "tensor 'hidden_states' has dtype I64, expected a float dtype (F32, F16, BF16 or F64)"));
    }

    @Test
    void floatLabelsAreRefusedNamingTheDtypeWanted() throws IOException {
        assertTrue(refused(w -> w.put("class_labels", new float[] {3, 4}, 2), "class_labels")
                .contains(
                "tensor 'class_labels' has dtype F32, expected an integer dtype (I64, I32, I16, I8 or U8)"));
    }

    @Test
    void labelsOutsideTheClassesAreRefused() throws IOException {
        assertTrue(refused(w -> w.put("class_labels", new long[] {3, 11}, 2), "class_labels")
                .contains(
                "tensor 'class_labels' holds 11 at index 1, expected a class from 0 to 10"));
        assertTrue(refused(w -> w.put("class_labels", new long[] {-1, 0}, 2), "class_labels")
                .contains(
                "tensor 'class_labels' holds -1 at index 0"));
    }

    @Test
    void timestepsOutsideTheTrainingRangeAreRefused() throws IOException {
        assertTrue(refused(w -> w.put("timestep", new long[] {-5}, 1), "timestep")
                .contains(
                "tensor 'timestep' holds -5 at index 0, expected a timestep from 0 to 1000 (num_train_timesteps)"));
        assertTrue(refused(w -> w.put("timestep", new long[] {0, 1_000_000_000_000L}, 2), "timestep")
                .contains(
                "tensor 'timestep' holds 1000000000000 at index 1"));
        assertTrue(refused(w -> w.put("timestep", new float[] {1e12f}, 1), "timestep")
                .contains(
                "tensor 'timestep' holds 9.99999995904E11 at index 0"));
        assertTrue(refused(w -> w.put("timestep", new float[] {Float.NaN}, 1), "timestep")
                .contains("holds NaN"));
    }

    @Test
    void theTimestepRangeComesFromTheModelsSchedulerConfig() throws IOException {
        Path model = dir.resolve("model");
        Files.createDirectories(model.resolve("scheduler"));
        Files.writeString(model.resolve("scheduler/scheduler_config.json"),
                "{\"_class_name\": \"DDPMScheduler\", \"num_train_timesteps\": 500}");
        assertEquals(500, DiTInputs.trainTimesteps(model.resolve("scheduler/scheduler_config.json")));
        assertEquals(1000, DiTInputs.trainTimesteps(dir.resolve("none.json")));
        Path f = inputs(w -> { });
        try (SafetensorsFile in = SafetensorsFile.open(f)) {
            String m = assertThrows(IllegalArgumentException.class, () -> DiTInputs.check(in, CONFIG, model))
                    .getMessage();
            assertTrue(m.contains("holds 999 at index 1, expected a timestep from 0 to 500"), m);
            assertDoesNotThrow(() -> DiTInputs.check(in, CONFIG, (Path) null));
        }
    }

    @Test
    void shapesAreCheckedAgainstTheConfigAndTheBatch() throws IOException {
        assertTrue(refused(w -> w.put("hidden_states", new float[2 * 3 * 8 * 8], 2, 3, 8, 8), "hidden_states")
                .contains(
                "tensor 'hidden_states' has shape [2, 3, 8, 8], expected [N, 4 (in_channels), H, W]"));
        assertTrue(refused(w -> w.put("hidden_states", new float[2 * 4 * 7 * 8], 2, 4, 7, 8), "hidden_states")
                .contains(
                "multiples of patch_size 2"));
        assertTrue(refused(w -> w.put("class_labels", new long[] {1, 2, 3}, 3), "class_labels")
                .contains(
                "tensor 'class_labels' has shape [3], expected [2] (one label per row of hidden_states)"));
        assertTrue(refused(w -> w.put("timestep", new long[] {1, 2, 3}, 3), "timestep")
                .contains(
                "tensor 'timestep' has shape [3], expected [] or [1]"));
        assertTrue(refused(w -> w.put("timestep", new long[] {1, 2}, 1, 2), "timestep")
                .contains("'timestep' has shape [1, 2]"));
    }

    @Test
    void aForwardBeyondTheMemoryBudgetIsRefusedBeforeLoading() throws IOException {
        Path f = inputs(w -> { });
        try (SafetensorsFile in = SafetensorsFile.open(f)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> DiTInputs.check(in, CONFIG, 1000, new MemoryBudget(1L << 30, 10_000))).getMessage();
            assertTrue(m.contains("tensor 'hidden_states' has shape [2, 4, 8, 8]: one forward of 2 x 8 x 8 latents "
                    + "needs"), m);
            assertTrue(m.contains("more than this machine's physical memory of 10000 bytes"), m);
        }
    }

    @Test
    void theModelItselfRefusesIntegerLatentsAndFloatLabels() {
        DiTModel model = new DiTModel(CONFIG);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[4 * 8 * 8], 1, 4, 8, 8);
            Tensor t = Tensors.fromLongs(new long[] {5}, 1);
            Tensor y = Tensors.fromLongs(new long[] {3}, 1);
            Tensor xLong = Tensors.fromLongs(new long[4 * 8 * 8], 1, 4, 8, 8);
            Tensor yFloat = Tensors.fromFloats(new float[] {3}, 1);
            Step step = Step.conditional(0, 1, 0, 1);
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> model.forward(xLong, t, y, step, ActivationProbe.NONE)).getMessage()
                    .contains("hidden_states has dtype Long, expected a float dtype"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> model.forward(x, t, yFloat, step, ActivationProbe.NONE)).getMessage()
                    .contains("class_labels has dtype Float, expected an integer dtype"));
            // a view of one element per channel: no memory behind the 2^32 pixels
            Tensor huge = Tensors.fromFloats(new float[4], 1, 4, 1, 1).expand(1, 4, 65536, 65536);
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> model.forward(huge, t, y, step, ActivationProbe.NONE)).getMessage()
                    .contains("hidden_states has shape [1, 4, 65536, 65536]: 1073741824 tokens x inner dim 32 is a "
                            + "position table larger than a Java array"));
            assertEquals(8, model.forward(x, t, y, step, ActivationProbe.NONE).size(1));
        }
    }
}
