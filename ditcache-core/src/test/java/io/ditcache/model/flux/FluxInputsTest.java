package io.ditcache.model.flux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** diffusers' forward arguments checked before any is loaded: one clear line naming file, tensor and value. */
class FluxInputsTest {
    private static FluxConfig fixture(Path dir) throws Exception {
        return FluxFamily.config(DiffusersConfig.read(FluxFixtures.copy("config.json", dir)));
    }

    /** The golden inputs, changed by {@code edit}, written to a file. */
    private static Path inputs(Path dir, String name, Consumer<Map<String, Tensor>> edit) throws Exception {
        Path golden = FluxFixtures.copy("golden.safetensors", dir);
        Path out = dir.resolve(name + ".safetensors");
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (String n : List.of("hidden_states", "encoder_hidden_states", "pooled_projections", "timestep",
                    "img_ids", "txt_ids")) {
                in.put(n, g.load("input." + n));
            }
            edit.accept(in);
            SafetensorsWriter.write(out, in, Map.of());
        }
        return out;
    }

    private static void refused(Path file, FluxConfig c, String... parts) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FluxInputs.check(f, c, null));
            assertTrue(e.getMessage().startsWith(f.source() + ": "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
            for (String p : parts) {
                assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
            }
        }
    }

    @Test
    void goldenInputsPass(@TempDir Path dir) throws Exception {
        FluxConfig c = fixture(dir);
        try (SafetensorsFile f = SafetensorsFile.open(inputs(dir, "ok", m -> { }))) {
            FluxInputs.check(f, c, null);
        }
    }

    @Test
    void badInputsAreRefused(@TempDir Path dir) throws Exception {
        FluxConfig c = fixture(dir);
        refused(inputs(dir, "missing", m -> m.remove("txt_ids")), c, "no tensor 'txt_ids'");
        refused(inputs(dir, "channels", m -> m.put("hidden_states", torch.randn(2, 16, 8))), c, "'hidden_states'",
                "[2, 16, 8]", "in_channels");
        refused(inputs(dir, "ehs", m -> m.put("encoder_hidden_states", torch.randn(1, 48, 32))), c,
                "'encoder_hidden_states'", "[1, 48, 32]", "[2, T, 32");
        refused(inputs(dir, "pooled", m -> m.put("pooled_projections", torch.randn(2, 31))), c,
                "'pooled_projections'", "pooled_projection_dim");
        refused(inputs(dir, "img", m -> m.put("img_ids", torch.randn(15, 3))), c, "'img_ids'", "[15, 3]", "[16");
        refused(inputs(dir, "txt", m -> m.put("txt_ids", torch.randn(48, 2))), c, "'txt_ids'", "axes");
        refused(inputs(dir, "t", m -> m.put("timestep", torch.full(new long[] {2}, new org.bytedeco.pytorch.Scalar(
                999.0)))), c, "'timestep'", "999.0", "timestep / 1000");
        refused(inputs(dir, "tshape", m -> m.put("timestep", torch.ones(3))), c, "'timestep'", "[3]");
        refused(inputs(dir, "g", m -> m.put("guidance", torch.ones(2))), c, "'guidance'", "guidance_embeds");
        FluxConfig dev = new FluxConfig(1, 4, 4, 1, 1, 2, 16, 32, 32, true, List.of(4, 4, 8));
        refused(inputs(dir, "nog", m -> { }), dev, "no tensor 'guidance'");
        refused(inputs(dir, "gneg", m -> m.put("guidance", torch.full(new long[] {1},
                new org.bytedeco.pytorch.Scalar(-1.0)))), dev, "'guidance'", "-1.0");
    }

    @Test
    void aForwardTooLargeForMemoryIsRefused(@TempDir Path dir) throws Exception {
        FluxConfig c = fixture(dir);
        try (SafetensorsFile f = SafetensorsFile.open(inputs(dir, "ok", m -> { }))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FluxInputs.check(f, c, 1.0, new MemoryBudget(1 << 20, 1 << 16)));
            assertTrue(e.getMessage().contains("one forward needs"), e.getMessage());
        }
    }

    @Test
    void diffusersForwardChecksFirst(@TempDir Path dir) throws Exception {
        FluxModel model = new FluxModel(fixture(dir));
        assertEquals(FluxInputs.names(model.config()), model.inputNames());
        try (SafetensorsFile f = SafetensorsFile.open(inputs(dir, "missing", m -> m.remove("img_ids")))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(f, null, ActivationProbe.NONE));
            assertTrue(e.getMessage().contains("no tensor 'img_ids'"), e.getMessage());
        }
    }
}
