package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} and {@code inspect} on a diffusers VAE folder (the pipeline fixture's tiny random AutoencoderKL)
 * against diffusers' golden decode and encode.
 */
class VaeCommandsTest {
    private static final double TOL = 1e-4;
    private static final String DIR = "/fixtures/pipeline/";

    @TempDir
    Path dir;

    @Test
    void runDecodesLatentsAsThePipelinesDo() throws Exception {
        Path golden = golden();
        Path out = dir.resolve("decoded.safetensors");
        CliRun r = CliRun.of("run", "--model", vae().toString(), "--inputs",
                FixtureDit.inputs(dir.resolve("in.safetensors"), golden, Map.of("latents", "latents")).toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(golden)) {
            assertEquals(Set.of("decoded"), got.names());
            assertEquals(want.info("decoded").shape(), got.info("decoded").shape());
            assertTrue(maxAbsDiff(want.floats("decoded"), got.floats("decoded")) <= TOL, "decoded");
        }
    }

    @Test
    void runEncodesImagesToThePosterior() throws Exception {
        Path golden = golden();
        Path out = dir.resolve("posterior.safetensors");
        CliRun r = CliRun.of("run", "--encode", "--model", vae().toString(), "--inputs",
                FixtureDit.inputs(dir.resolve("in.safetensors"), golden, Map.of("images", "images")).toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(golden)) {
            assertEquals(Set.of("posterior_mean", "posterior_logvar"), got.names());
            for (String name : got.names()) {
                double err = maxAbsDiff(want.floats(name), got.floats(name));
                assertTrue(err <= TOL, name + " max abs err " + err);
            }
        }
    }

    @Test
    void bfloat16DecodeIsCloseToDiffusers() throws Exception {
        Path golden = golden();
        Path out = dir.resolve("decoded.safetensors");
        CliRun r = CliRun.of("run", "--dtype", "bf16", "--model", vae().toString(), "--inputs",
                FixtureDit.inputs(dir.resolve("in.safetensors"), golden, Map.of("latents", "latents")).toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(golden)) {
            double err = maxAbsDiff(want.floats("decoded"), got.floats("decoded"));
            assertTrue(err <= 0.1 && err > 0, "bfloat16 decoded max abs err " + err);
        }
    }

    @Test
    void wrongInputsAndOptionsAreOneLineErrors() throws Exception {
        Path golden = golden();
        Path images = FixtureDit.inputs(dir.resolve("images.safetensors"), golden, Map.of("images", "images"));
        CliRun r = CliRun.of("run", "--model", vae().toString(), "--inputs", images.toString(), "--out",
                dir.resolve("o1.safetensors").toString());
        assertNotEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().contains("images.safetensors") && r.err().contains("\"latents\"")
                && r.err().contains("add --encode"), r::toString);

        Path wide = FixtureDit.inputs(dir.resolve("wide.safetensors"), golden, Map.of("latents", "images"));
        r = CliRun.of("run", "--model", vae().toString(), "--inputs", wide.toString(), "--out",
                dir.resolve("o2.safetensors").toString());
        assertNotEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("wide.safetensors") && r.err().contains("[2, 3, 16, 16]"), r::toString);

        r = CliRun.of("run", "--encode", "--model", FixtureDit.checkpoint(dir.resolve("dit")).toString(), "--inputs",
                images.toString(), "--out", dir.resolve("o3.safetensors").toString());
        assertNotEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--encode") && r.err().contains("not a VAE"), r::toString);

        r = CliRun.of("run", "--capture", "--model", vae().toString(), "--inputs", images.toString(), "--out",
                dir.resolve("o4.safetensors").toString());
        assertNotEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--capture"), r::toString);
    }

    @Test
    void inspectReportsClassAndParameterCounts() throws Exception {
        Path flux = copy("configs/flux1_dev_vae/config.json", dir.resolve("flux-vae.json"));
        CliRun r = CliRun.of("inspect", "--config", flux.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("class: AutoencoderKL (vae)"), r::toString);
        assertTrue(r.out().contains("parameters: 83819683\n"), r::toString);
        assertTrue(r.out().contains("encoder parameters: 34274208"), r::toString);
        assertTrue(r.out().contains("decoder parameters: 49545475"), r::toString);
        assertTrue(r.out().contains("scaling_factor: 0.3611, shift_factor: 0.1159"), r::toString);

        r = CliRun.of("inspect", "--model", vae().toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("class: AutoencoderKL (vae)"), r::toString);
        assertTrue(r.out().contains("parameter tensors: 116"), r::toString);
        assertTrue(r.out().contains("(the parameters the config defines)"), r::toString);
    }

    private Path vae() throws IOException {
        Path vae = dir.resolve("vae");
        if (!Files.isDirectory(vae)) {
            copy("vae/config.json", vae.resolve("config.json"));
            copy("vae/diffusion_pytorch_model.safetensors", vae.resolve(FixtureDit.WEIGHTS));
        }
        return vae;
    }

    private Path golden() throws IOException {
        return copy("vae/golden.safetensors", dir.resolve("golden.safetensors"));
    }

    private static Path copy(String resource, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try (InputStream in = VaeCommandsTest.class.getResourceAsStream(DIR + resource)) {
            Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    private static double maxAbsDiff(float[] want, float[] got) {
        assertEquals(want.length, got.length, "element count");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }
}
