package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ditcache run} on the fixture DiT against diffusers' golden output and activations. */
class RunCommandTest {
    static final double TOL = 1e-4;
    static final Map<String, String> GOLDEN_INPUTS = Map.of("hidden_states", "input.hidden_states",
            "timestep", "input.timestep", "class_labels", "input.class_labels");

    @TempDir
    Path dir;

    @Test
    void writesSampleMatchingDiffusers() throws Exception {
        Path golden = FixtureDit.golden(dir.resolve("golden.safetensors"));
        Path out = dir.resolve("out.safetensors");
        CliRun r = CliRun.of("run", "--model", FixtureDit.checkpoint(dir.resolve("dit")).toString(), "--inputs",
                FixtureDit.inputs(dir.resolve("in.safetensors"), golden, GOLDEN_INPUTS).toString(), "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(golden)) {
            assertEquals(Set.of("sample"), got.names());
            assertClose(want, "output.sample", got, "sample");
        }
    }

    @Test
    void bfloat16ComputeMatchesDiffusersToItsPrecisionAndUnknownTypesAreRefused() throws Exception {
        Path golden = FixtureDit.golden(dir.resolve("golden.safetensors"));
        Path out = dir.resolve("out.safetensors");
        String ckpt = FixtureDit.checkpoint(dir.resolve("dit")).toString();
        String in = FixtureDit.inputs(dir.resolve("in.safetensors"), golden, GOLDEN_INPUTS).toString();
        CliRun r = CliRun.of("run", "--dtype", "bfloat16", "--model", ckpt, "--inputs", in, "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(golden)) {
            float[] w = want.floats("output.sample");
            float[] g = got.floats("sample");
            double worst = 0;
            double scale = 0;
            for (int i = 0; i < w.length; i++) {
                worst = Math.max(worst, Math.abs(w[i] - g[i]));
                scale = Math.max(scale, Math.abs(w[i]));
            }
            assertTrue(worst < 0.05 * scale && worst > 1e-6, "bfloat16 error " + worst + " of scale " + scale);
        }
        CliRun bad = CliRun.of("run", "--dtype", "int8", "--model", ckpt, "--inputs", in, "--out",
                dir.resolve("bad.safetensors").toString());
        assertEquals(2, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("compute dtype \"int8\", expected one of [float32, bfloat16, float16]"),
                bad::toString);
    }

    @Test
    void captureWritesKeysValuesAndAttentionMatchingDiffusers() throws Exception {
        Path golden = FixtureDit.golden(dir.resolve("golden.safetensors"));
        Path out = dir.resolve("out.safetensors");
        CliRun r = CliRun.of("run", "--capture", "--model", FixtureDit.checkpoint(dir.resolve("dit")).toString(),
                "--inputs", FixtureDit.inputs(dir.resolve("in.safetensors"), golden, GOLDEN_INPUTS).toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(golden)) {
            Set<String> expected = new TreeSet<>(Set.of("sample"));
            for (int i = 0; i < FixtureDit.LAYERS; i++) {
                for (String kind : new String[] {"k", "v", "a"}) {
                    String name = "block." + i + "." + kind;
                    expected.add(name);
                    assertClose(want, name, got, name);
                }
            }
            assertEquals(expected, new TreeSet<>(got.names()));
            assertClose(want, "output.sample", got, "sample");
        }
    }

    @Test
    void nonFiniteOutputIsWrittenWithAWarningThatCountsIt() throws Exception {
        Path golden = FixtureDit.golden(dir.resolve("golden.safetensors"));
        Path nanModel = FixtureDit.editedCheckpoint(dir.resolve("nan"), (name, values) -> Arrays.fill(values, Float.NaN));
        Path out = dir.resolve("out.safetensors");
        CliRun r = CliRun.of("run", "--model", nanModel.toString(), "--inputs",
                FixtureDit.inputs(dir.resolve("in.safetensors"), golden, GOLDEN_INPUTS).toString(), "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            long n = got.floats("sample").length;
            assertEquals(List.of("run: warning: output tensor \"sample\" in " + out + " has " + n + " of " + n
                    + " elements non-finite (NaN or infinite)"), r.errLines(), r::toString);
        }

        CliRun captured = CliRun.of("run", "--capture", "--model", nanModel.toString(), "--inputs",
                dir.resolve("in.safetensors").toString(), "--out", out.toString());
        assertEquals(0, captured.exitCode(), captured::toString);
        assertEquals(2, captured.errLines().size(), captured::toString);
        assertTrue(captured.errLines().get(1).startsWith("run: warning: " + 3 * FixtureDit.LAYERS + " of "
                + 3 * FixtureDit.LAYERS + " captured tensors in " + out + " hold non-finite elements"), captured::toString);
    }

    static void assertClose(SafetensorsFile want, String wantName, SafetensorsFile got, String gotName) {
        assertEquals(want.info(wantName).shape(), got.info(gotName).shape(), gotName + " shape");
        float[] w = want.floats(wantName);
        float[] g = got.floats(gotName);
        double worst = 0;
        for (int i = 0; i < w.length; i++) {
            double d = Math.abs((double) w[i] - g[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        assertTrue(worst <= TOL, gotName + " max abs error " + worst + " > " + TOL);
    }
}
