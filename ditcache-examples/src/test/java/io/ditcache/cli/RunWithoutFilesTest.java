package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} starts without files: on the embedded default with inputs made for it, or writes those inputs with
 * {@code --example-inputs} for reuse; it says what it ran on and what it wrote. It once needed --model, --inputs
 * and --out and printed nothing on success.
 */
class RunWithoutFilesTest {
    @TempDir
    Path dir;

    @Test
    void theEmbeddedModelRunsOnInputsMadeForIt() throws Exception {
        Path out = dir.resolve("out.safetensors");
        CliRun r = CliRun.of("run", "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("run: ditcache-default (DiTTransformer2DModel), one forward on inputs made for "
                + "ditcache-default (seed 0): "), r::toString);
        assertTrue(r.out().contains("hidden_states [1, 1, 28, 28] F32"), r::toString);
        assertTrue(r.out().contains("timestep [1] I64 = 500"), "half of the 1000 training timesteps: " + r);
        assertTrue(r.out().contains("class_labels [1] I64 = 0"), r::toString);
        assertTrue(r.out().contains("wrote " + out.toAbsolutePath() + ": sample [1, 1, 28, 28]"), r::toString);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(Set.of("sample"), f.names());
            float[] v = f.floats("sample");
            assertEquals(28 * 28, v.length);
            for (float x : v) {
                assertTrue(Float.isFinite(x));
            }
        }
    }

    @Test
    void exampleInputsAreAValidInputsFileForTheSameForward() throws Exception {
        Path in = dir.resolve("in.safetensors");
        CliRun w = CliRun.of("run", "--example-inputs", in.toString(), "--seed", "13");
        assertEquals(0, w.exitCode(), w::toString);
        assertTrue(w.out().startsWith("wrote example inputs for ditcache-default (seed 13) to " + in.toAbsolutePath()
                + ": "), w::toString);
        assertTrue(w.out().contains("class_labels [1] I64 = 3"), "13 mod 10 classes: " + w);
        assertFalse(w.out().contains("one forward"), "only the inputs were asked for");
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            assertEquals(Set.of("hidden_states", "timestep", "class_labels"), f.names());
            assertArrayEquals(new long[] {1, 1, 28, 28}, f.info("hidden_states").dims());
        }
        Path fromFile = dir.resolve("from-file.safetensors");
        Path made = dir.resolve("made.safetensors");
        CliRun a = CliRun.of("run", "--inputs", in.toString(), "--out", fromFile.toString());
        CliRun b = CliRun.of("run", "--seed", "13", "--out", made.toString());
        assertEquals(0, a.exitCode(), a::toString);
        assertEquals(0, b.exitCode(), b::toString);
        try (SafetensorsFile x = SafetensorsFile.open(fromFile); SafetensorsFile y = SafetensorsFile.open(made)) {
            assertArrayEquals(y.floats("sample"), x.floats("sample"), "the written inputs are the ones run makes");
        }
        CliRun other = CliRun.of("run", "--seed", "14", "--out", dir.resolve("other.safetensors").toString());
        assertEquals(0, other.exitCode(), other::toString);
        try (SafetensorsFile x = SafetensorsFile.open(made);
                SafetensorsFile y = SafetensorsFile.open(dir.resolve("other.safetensors"))) {
            assertFalse(java.util.Arrays.equals(x.floats("sample"), y.floats("sample")), "the seed matters");
        }
    }

    @Test
    void exampleInputsWithInputsOrForATextModelAreRefusedInOneLine() throws Exception {
        Path in = dir.resolve("in.safetensors");
        CliRun both = CliRun.of("run", "--example-inputs", in.toString(), "--inputs", in.toString());
        assertEquals(2, both.exitCode(), both::toString);
        assertEquals(1, both.errLines().size(), both::toString);
        assertFalse(Files.exists(in));

        Path sd3 = dir.resolve("sd3");
        Files.createDirectories(sd3);
        TextModelCommandsTest.copy("config.json", sd3.resolve("config.json"));
        TextModelCommandsTest.copy("model.safetensors", sd3.resolve(FixtureDit.WEIGHTS));
        CliRun text = CliRun.of("run", "--model", sd3.toString(), "--example-inputs", in.toString());
        assertEquals(2, text.exitCode(), text::toString);
        assertEquals(1, text.errLines().size(), text::toString);
        assertTrue(text.err().startsWith("run: --example-inputs: no example inputs for sd3 (SD3Transformer2DModel"),
                text::toString);
        assertTrue(text.err().contains("encoder_hidden_states"), "says what the model takes: " + text);
        CliRun noInputs = CliRun.of("run", "--model", sd3.toString(), "--out", dir.resolve("o.safetensors")
                .toString());
        assertEquals(2, noInputs.exitCode(), noInputs::toString);
        assertTrue(noInputs.err().startsWith("run: --inputs: required for sd3"), noInputs::toString);
        assertFalse(Files.exists(in));
    }
}
