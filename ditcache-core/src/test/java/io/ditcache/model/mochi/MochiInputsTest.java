package io.ditcache.model.mochi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.internal.Tensors;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.Fixtures;
import io.ditcache.model.ModelLoader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run}'s forward: diffusers' arguments checked before any is loaded, one line naming file, tensor, value. */
class MochiInputsTest {
    /** The golden inputs, changed by {@code edit}, written to a file. */
    private static Path inputs(Path dir, String name, Consumer<Map<String, Tensor>> edit) throws Exception {
        Path golden = Fixtures.copy(MochiGoldenTest.DIR + "golden.safetensors", dir.resolve("golden.safetensors"));
        Path out = dir.resolve(name + ".safetensors");
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (String n : MochiModel.INPUT_NAMES) {
                in.put(n, g.load("input." + n));
            }
            edit.accept(in);
            SafetensorsWriter.write(out, in, Map.of());
        }
        return out;
    }

    private static void refused(MochiModel model, Path file, String... parts) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(f, null, ActivationProbe.NONE));
            assertTrue(e.getMessage().startsWith(f.source() + ": "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
            for (String p : parts) {
                assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
            }
        }
    }

    @Test
    void goldenInputsRunAndBadOnesAreNamed(@TempDir Path dir) throws Exception {
        MochiModel model = (MochiModel) ModelLoader.load(MochiGoldenTest.checkpoint(dir.resolve("m")));
        assertTrue(model.inputNames().equals(List.of("hidden_states", "encoder_hidden_states", "timestep",
                "encoder_attention_mask")));
        try (SafetensorsFile f = SafetensorsFile.open(inputs(dir, "ok", m -> { }));
                SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
                PointerScope scope = new PointerScope()) {
            Tensor out = model.forward(f, null, ActivationProbe.NONE);
            assertArrayEquals(g.floats("output.sample"), Tensors.toFloats(out), 1e-4f);
        }
        refused(model, inputs(dir, "nomask", m -> m.remove("encoder_attention_mask")),
                "no tensor 'encoder_attention_mask'");
        refused(model, inputs(dir, "floatmask", m -> m.put("encoder_attention_mask",
                m.get("encoder_attention_mask").to(ScalarType.Float))), "'encoder_attention_mask' has dtype F32",
                "expected BOOL or an integer dtype");
        refused(model, inputs(dir, "shortmask", m -> m.put("encoder_attention_mask",
                m.get("encoder_attention_mask").narrow(1, 0, 15).contiguous())),
                "'encoder_attention_mask' has shape [2, 15], expected [2, 16]");
        refused(model, inputs(dir, "image", m -> m.put("hidden_states", m.get("hidden_states").select(2, 0)
                .contiguous())), "'hidden_states' has shape [2, 4, 16, 16]", "[N, 4 (in_channels), F, H, W]");
        refused(model, inputs(dir, "odd", m -> m.put("hidden_states", m.get("hidden_states").narrow(4, 0, 15)
                .contiguous())), "multiples of patch_size 2");
        refused(model, inputs(dir, "wide", m -> m.put("encoder_hidden_states", torch.zeros(2, 16, 17))),
                "'encoder_hidden_states' has shape [2, 16, 17], expected [2, tokens, 16] (text_embed_dim)");
        refused(model, inputs(dir, "late", m -> m.put("timestep", m.get("timestep").add(new Scalar(1000)))),
                "'timestep' holds 1073.0 at index 0", "from 0 to 1000");
        refused(model, inputs(dir, "three", m -> m.put("timestep", torch.zeros(3))), "'timestep' has shape [3]");
        // one forward that does not fit is refused before anything is loaded
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("ok.safetensors"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MochiInputs.check(f, model.config(), new MemoryBudget(1 << 12, 1 << 12)));
            assertTrue(e.getMessage().contains("(128 video tokens) with 16 text tokens: one forward"),
                    e.getMessage());
        }
    }
}
