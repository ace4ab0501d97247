package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.opensora.STDiT3Config;
import io.ditcache.model.opensora.STDiT3Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

    /**
     * The text-conditioned families get inputs of their config's shapes (random embeddings), video families at
     * their default latent size: the file they write passes the family's own input checks and runs, and the
     * forward gives finite values of the latents' shape.
     */
    @ParameterizedTest
    @CsvSource({"pixart, pixart, 'hidden_states [1, 4, 8, 8] F32', '[1, 8, 8, 8]'",
            "sd3-small, sd3, 'pooled_projections [1, 64] F32', '[1, 4, 8, 8]'",
            "flux, flux, 'img_ids [256, 3] F32', '[1, 256, 4]'",
            "latte, latte, 'hidden_states [1, 4, 16, 8, 8] F32', '[1, 8, 16, 8, 8]'",
            "mochi, mochi, 'encoder_attention_mask [1, 8] I64, timestep [1] F32', '[1, 4, 4, 60, 106]'",
            "cogvideox, cogvideox, 'hidden_states [1, 2, 4, 8, 8] F32', '[1, 2, 4, 8, 8]'"})
    void textFamiliesRunOnInputsMadeFromTheirConfig(String fixture, String name, String tensor, String sample)
            throws Exception {
        Path model = fixture(fixture, name);
        Path in = dir.resolve(name + "-in.safetensors");
        CliRun w = CliRun.of("run", "--model", model.toString(), "--example-inputs", in.toString());
        assertEquals(0, w.exitCode(), w::toString);
        assertTrue(w.out().contains(tensor), w::toString);
        assertTrue(w.out().contains("encoder_hidden_states [1, " + ExampleInputs.TEXT_TOKENS + ", "), w::toString);
        Path out = dir.resolve(name + "-out.safetensors");
        CliRun r = CliRun.of("run", "--model", model.toString(), "--inputs", in.toString(), "--capture", "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err(), r::toString);
        assertTrue(r.out().contains("wrote " + out.toAbsolutePath() + ": sample " + sample), r::toString);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            for (float x : f.floats("sample")) {
                assertTrue(Float.isFinite(x));
            }
        }
    }

    /** A fixture checkpoint of the examples' test resources, copied into a folder named {@code name}. */
    private Path fixture(String fixture, String name) throws Exception {
        Path model = Files.createDirectories(dir.resolve(name));
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            try (java.io.InputStream s = getClass().getResourceAsStream("/fixtures/" + fixture + "/" + f)) {
                Files.copy(s, model.resolve(f.equals("config.json") ? f : FixtureDit.WEIGHTS));
            }
        }
        return model;
    }

    @Test
    void exampleInputsWithInputsOrForAVideoModelAreRefusedInOneLine() throws Exception {
        Path in = dir.resolve("in.safetensors");
        CliRun both = CliRun.of("run", "--example-inputs", in.toString(), "--inputs", in.toString());
        assertEquals(2, both.exitCode(), both::toString);
        assertEquals(1, both.errLines().size(), both::toString);
        assertFalse(Files.exists(in));

        Path stdit = dir.resolve("stdit3");
        CheckpointWriter.save(new STDiT3Model(new STDiT3Config(new long[] {3, 4, 4}, 64, 4, new int[] {1, 2, 2}, 32,
                2, 2, 2.0, true, 16, 6, true, 0.1)), stdit, Map.of());
        CliRun video = CliRun.of("run", "--model", stdit.toString(), "--example-inputs", in.toString());
        assertEquals(2, video.exitCode(), video::toString);
        assertEquals(1, video.errLines().size(), video::toString);
        assertTrue(video.err().startsWith("run: --example-inputs: no example inputs for stdit3 (STDiT3"),
                video::toString);
        assertTrue(video.err().contains("which takes [x, timestep, y]"), "says what the model takes: " + video);
        CliRun noInputs = CliRun.of("run", "--model", stdit.toString(), "--out", dir.resolve("o.safetensors")
                .toString());
        assertEquals(2, noInputs.exitCode(), noInputs::toString);
        assertTrue(noInputs.err().startsWith("run: --inputs: required for stdit3"), noInputs::toString);
        assertFalse(Files.exists(in));
    }
}
