package io.ditcache.model.opensora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.TextEmbeddings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STDiT3's embeddings and head against libtorch's own operators, and the forward `run` calls. */
class STDiT3EmbeddingTest {
    /** x_embedder as a matmul equals Conv3d with stride = kernel = patch, tokens flattened (t, h, w). */
    @Test
    void patchEmbedIsTheStridedConv3d() {
        STDiT3Config c = STDiT3TestModels.tiny();
        STDiT3Model model = STDiT3TestModels.random(c, 31);
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(8));
            Tensor x = torch.randn(new long[] {2, 4, 3, 4, 6}, gen, new TensorOptions(ScalarType.Float));
            Map<String, Tensor> w = model.stateDict();
            Tensor conv = torch.conv3d(x, w.get("x_embedder.proj.weight"), new TensorOptional(
                    w.get("x_embedder.proj.bias")), new long[] {1, 2, 2}, new long[] {0, 0, 0}, new long[] {1, 1, 1},
                    1);
            Tensor want = conv.flatten(2, -1).transpose(1, 2).contiguous();
            float[] got = Tensors.toFloats(model.xEmbedder().forward(x));
            float[] ref = Tensors.toFloats(want);
            assertEquals(ref.length, got.length);
            for (int i = 0; i < ref.length; i++) {
                assertEquals(ref[i], got[i], 1e-5, "element " + i);
            }
        }
    }

    /**
     * The 2-D table by Open-Sora's recipe read literally: meshgrid(grid_w, grid_h, indexing "ij"), each transposed
     * and flattened; the first half embeds what that code calls grid_h, which holds the column coordinate.
     */
    @Test
    void positionTableFollowsOpenSorasMeshgrid() {
        int dim = 16;
        long h = 3;
        long w = 5;
        double scale = 0.75;
        long base = Math.round(Math.sqrt(h * w));
        double[] table = SpatialPositions.values(dim, h, w, scale, base);
        for (long i = 0; i < h; i++) {
            for (long j = 0; j < w; j++) {
                // meshgrid(grid_w, grid_h, "ij")[0] is [w, h] with value grid_w[a] at (a, b); .t() puts it at (b, a)
                double first = j / scale * base / w;
                double second = i / scale * base / h;
                int row = (int) ((i * w + j) * dim);
                for (int k = 0; k < dim / 4; k++) {
                    double f = (float) (1.0 / Math.pow(10000, k * 2.0 / (dim / 2)));
                    assertEquals(Math.sin(first * f), table[row + k], 1e-12);
                    assertEquals(Math.cos(first * f), table[row + dim / 4 + k], 1e-12);
                    assertEquals(Math.sin(second * f), table[row + dim / 2 + k], 1e-12);
                    assertEquals(Math.cos(second * f), table[row + 3 * dim / 4 + k], 1e-12);
                }
            }
        }
    }

    /** The DiffusersForward reads x, timestep, y, mask, fps, height, width and runs the raw forward. */
    @Test
    void runForwardTakesOpenSorasArgumentNames(@TempDir Path dir) throws Exception {
        STDiT3Model model = STDiT3TestModels.random(STDiT3TestModels.tiny(), 32);
        Path file = dir.resolve("inputs.safetensors");
        float[] want;
        try (PointerScope scope = new PointerScope()) {
            TextEmbeddings text = (TextEmbeddings) STDiT3TestModels.prompt(5, 2, null).conditioning();
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(9));
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("x", torch.randn(new long[] {1, 4, 3, 4, 4}, gen, new TensorOptions(ScalarType.Float)));
            in.put("timestep", Tensors.fromFloats(new float[] {640f}, 1));
            in.put("y", text.hiddenStates().unsqueeze(1).contiguous());
            in.put("mask", text.mask().get());
            in.put("fps", Tensors.fromFloats(new float[] {12f}, 1));
            in.put("height", Tensors.fromFloats(new float[] {48f}, 1));
            in.put("width", Tensors.fromFloats(new float[] {40f}, 1));
            SafetensorsWriter.write(file, in, Map.of());
            try (InferenceMode mode = new InferenceMode()) {
                want = Tensors.toFloats(model.forward(in.get("x"), in.get("timestep"), text.hiddenStates(),
                        in.get("mask"), in.get("fps"), 48, 40, Step.conditional(0, 1, 0, 1), ActivationProbe.NONE));
            }
        }
        try (SafetensorsFile in = SafetensorsFile.open(file); InferenceMode mode = new InferenceMode();
                PointerScope scope = new PointerScope()) {
            Tensor out = model.forward(in, dir, ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 8, 3, 4, 4}, Tensors.shape(out));
            assertArrayEquals(want, Tensors.toFloats(out));
        }
        Path partial = dir.resolve("partial.safetensors");
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter.write(partial, Map.of("x", torch.zeros(1, 4, 3, 4, 4)), Map.of());
        }
        try (SafetensorsFile in = SafetensorsFile.open(partial)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> model.forward(in, dir,
                    ActivationProbe.NONE));
            assertTrue(e.getMessage().contains("no input \"timestep\""), e.getMessage());
        }
    }
}
