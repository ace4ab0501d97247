package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input fails with a non-zero exit code (2 for bad arguments, 1 for bad files), exactly one line on stderr
 * that names the bad thing, and no file written.
 */
class CliErrorsTest {
    @TempDir
    Path dir;
    Path model;
    Path out;

    @BeforeEach
    void checkpoint() throws IOException {
        model = FixtureDit.checkpoint(dir.resolve("dit"));
        out = dir.resolve("out");
    }

    @Test
    void truncatedCheckpoint() throws IOException {
        Path weights = model.resolve(FixtureDit.WEIGHTS);
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length / 2));
        assertFailsCleanly(1, "diffusion_pytorch_model.safetensors", profile("--steps", "3"));
    }

    @Test
    void missingModelDirectory() throws IOException {
        assertFailsCleanly(1, "--model", "profile", "--model", dir.resolve("nope").toString(), "--out",
                out.toString());
    }

    @Test
    void oneStep() throws IOException {
        assertFailsCleanly(2, "--steps 1", profile("--steps", "1"));
    }

    @Test
    void stepsNotANumber() throws IOException {
        assertFailsCleanly(2, "'abc'", profile("--steps", "abc"));
    }

    @Test
    void unknownScheduler() throws IOException {
        assertFailsCleanly(2, "--scheduler nope", profile("--steps", "3", "--scheduler", "nope"));
    }

    @Test
    void classLabelOutOfRange() throws IOException {
        assertFailsCleanly(2, "--class-labels 99", profile("--steps", "3", "--class-labels", "99"));
    }

    @Test
    void guidanceBelowOne() throws IOException {
        assertFailsCleanly(2, "--guidance 0.5", profile("--steps", "3", "--guidance", "0.5"));
    }

    @Test
    void latentsFileWithoutLatentsTensor() throws IOException {
        Path noise = dir.resolve("noise.safetensors");
        new SafetensorsWriter().put("noise", new float[4 * 8 * 8], 1, 4, 8, 8).write(noise);
        assertFailsCleanly(1, "\"latents\"", profile("--steps", "3", "--class-labels", "1", "--latents",
                noise.toString()));
    }

    @Test
    void missingLatentsFileBeforeTheModelLoads() throws IOException {
        assertFailsCleanly(2, "--latents " + dir.resolve("nope.safetensors") + ": no such file", profile("--steps",
                "3", "--latents", dir.resolve("nope.safetensors").toString()));
    }

    @Test
    void latentsOfWrongShape() throws IOException {
        Path noise = dir.resolve("noise.safetensors");
        new SafetensorsWriter().put("latents", new float[4 * 4 * 4], 1, 4, 4, 4).write(noise);
        CliRun r = assertFailsCleanly(1, "[1, 4, 4, 4]", profile("--steps", "3", "--class-labels", "1",
                "--latents", noise.toString()));
        assertTrue(r.err().contains("--latents"), r::toString);
    }

    @Test
    void inputsWithoutTimestep() throws IOException {
        Map<String, String> inputs = new LinkedHashMap<>(RunCommandTest.GOLDEN_INPUTS);
        inputs.remove("timestep");
        assertFailsCleanly(1, "\"timestep\"", run(inputs));
    }

    @Test
    void inputsOfAnotherModelFamily() throws IOException {
        Map<String, String> inputs = new LinkedHashMap<>(RunCommandTest.GOLDEN_INPUTS);
        inputs.put("encoder_hidden_states", "block.0.k");
        assertFailsCleanly(1, "encoder_hidden_states", run(inputs));
    }

    @Test
    void inputsThatAreACheckpointAreNamedInOneShortLine() throws IOException {
        // the fixture's weights file has some 80 tensors: the line names a few and counts the rest
        CliRun r = assertFailsCleanly(1, "unknown input tensors [", "run", "--model", model.toString(), "--inputs",
                model.resolve(FixtureDit.WEIGHTS).toString(), "--out", out.toString());
        assertTrue(r.err().contains(" more], expected [hidden_states, timestep, class_labels]"), r::toString);
        assertTrue(r.err().length() < 400, r::toString);
    }

    @Test
    void inputsOfTheWrongDtypeOrOutsideTheTrainingRangeAreRefusedNotConverted() throws IOException {
        assertFailsCleanly(1, "tensor 'hidden_states' has dtype I64, expected a float dtype",
                run("hidden_states", x -> x.to(ScalarType.Long)));
        assertFailsCleanly(1, "tensor 'class_labels' has dtype F32, expected an integer dtype",
                run("class_labels", y -> y.to(ScalarType.Float)));
        assertFailsCleanly(1, "tensor 'timestep' holds -5",
                run("timestep", t -> t.mul(new Scalar(0)).sub(new Scalar(5))));
        assertFailsCleanly(1, "expected a timestep from 0 to 1000",
                run("timestep", t -> t.to(ScalarType.Double).mul(new Scalar(0)).add(new Scalar(1e12))));
    }

    /** The golden inputs with one tensor changed. */
    private String[] run(String name, UnaryOperator<Tensor> change) throws IOException {
        Path golden = FixtureDit.golden(dir.resolve("golden.safetensors"));
        Path in = dir.resolve("inputs.safetensors");
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            SafetensorsWriter w = new SafetensorsWriter();
            RunCommandTest.GOLDEN_INPUTS.forEach((n, from) -> w.put(n, n.equals(name)
                    ? change.apply(g.load(from)) : g.load(from)));
            w.write(in);
        }
        return new String[] {"run", "--model", model.toString(), "--inputs", in.toString(), "--out",
            out.toString()};
    }

    @Test
    void unknownCommand() throws IOException {
        assertFailsCleanly(2, "'frob'", "frob", "--out", out.toString());
    }

    private String[] profile(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("profile", "--model", model.toString(), "--out",
                out.toString()));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    private String[] run(Map<String, String> inputs) throws IOException {
        Path golden = FixtureDit.golden(dir.resolve("golden.safetensors"));
        Path in = FixtureDit.inputs(dir.resolve("inputs.safetensors"), golden, inputs);
        return new String[] {"run", "--model", model.toString(), "--inputs", in.toString(), "--out",
            out.toString()};
    }

    private CliRun assertFailsCleanly(int exitCode, String named, String... args) throws IOException {
        List<Path> before = files();
        CliRun r = CliRun.of(args);
        assertEquals(exitCode, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), () -> "one line on stderr\n" + r);
        String line = r.errLines().get(0);
        assertTrue(line.contains(named), () -> "stderr names " + named + "\n" + r);
        assertFalse(line.contains("Exception"), () -> "no exception class names\n" + r);
        assertEquals("", r.out(), r::toString);
        assertEquals(before, files(), "no file written");
        return r;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.sorted().toList();
        }
    }
}
