package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DType;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real-size checkpoints come as bfloat16 or float16 shards with an index: such a checkpoint loads (each weight
 * read from its shard and widened), runs exactly as the same weights in float32 do, and a broken one (index naming
 * a missing shard, a shard holding a tensor of the wrong shape, a config that disagrees with the weights) is
 * refused naming the file and the key.
 */
class ShardedHalfCheckpointTest {
    @TempDir
    Path tmp;

    /** Writes the fixture DiT's weights as {@code dtype} over two shards with an index; returns the directory. */
    private Path sharded(DType dtype, Map<String, long[]> override) throws IOException {
        Path src = Fixtures.ditCheckpoint(tmp.resolve("src"));
        Path dir = Files.createDirectories(tmp.resolve("sharded-" + dtype));
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Map<String, String> weightMap = new LinkedHashMap<>();
        SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
        String[] names = {"diffusion_pytorch_model-00001-of-00002.safetensors",
            "diffusion_pytorch_model-00002-of-00002.safetensors"};
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("diffusion_pytorch_model.safetensors"))) {
            int i = 0;
            for (String name : f.names()) {
                int s = i++ % 2;
                float[] v = f.floats(name);
                long[] shape = override.getOrDefault(name, f.info(name).dims());
                if (override.containsKey(name)) {
                    v = new float[(int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact)];
                }
                shards[s].putBytes(name, dtype, encode(v, dtype), shape);
                weightMap.put(name, names[s]);
            }
        }
        for (int s = 0; s < 2; s++) {
            shards[s].write(dir.resolve(names[s]));
        }
        StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
        List<String> entries = new ArrayList<>();
        weightMap.forEach((k, v) -> entries.add("\"" + k + "\": \"" + v + "\""));
        index.append(String.join(", ", entries)).append("}}");
        Files.writeString(dir.resolve("diffusion_pytorch_model.safetensors.index.json"), index);
        return dir;
    }

    /** {@code v} as {@code dtype}'s little-endian bits, rounded by libtorch as {@code .to(dtype)} rounds. */
    private static byte[] encode(float[] v, DType dtype) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.fromFloats(v, v.length).to(dtype == DType.BF16 ? ScalarType.BFloat16 : ScalarType.Half)
                    .contiguous();
            short[] bits = new short[v.length];
            new org.bytedeco.javacpp.ShortPointer(t.data_ptr()).capacity(v.length).get(bits);
            ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            b.asShortBuffer().put(bits);
            return b.array();
        }
    }

    @Test
    void bfloat16AndFloat16ShardsLoadAndRunAsTheirFloat32Values() throws IOException {
        for (DType dtype : List.of(DType.BF16, DType.F16)) {
            Path dir = sharded(dtype, Map.of());
            Denoiser half = ModelLoader.load(dir);
            Denoiser full = ModelLoader.load(Fixtures.ditCheckpoint(tmp.resolve("full")));
            try (PointerScope scope = new PointerScope()) {
                Map<String, Tensor> h = half.stateDict();
                Map<String, Tensor> f = full.stateDict();
                assertEquals(f.keySet(), h.keySet());
                double worst = 0;
                for (String k : f.keySet()) {
                    Tensor widened = f.get(k).to(dtype == DType.BF16 ? ScalarType.BFloat16 : ScalarType.Half)
                            .to(ScalarType.Float);
                    assertArrayEquals(Tensors.toFloats(widened), Tensors.toFloats(h.get(k)), 0f, k + " " + dtype);
                    worst = Math.max(worst, f.get(k).sub(h.get(k)).abs().max().item_float());
                }
                assertTrue(worst > 0, "the " + dtype + " weights are rounded, not the float32 ones");
                Tensor x = org.bytedeco.pytorch.global.torch.randn(2, 4, 8, 8);
                Tensor t = Tensors.fromFloats(new float[] {500f}, 1);
                Conditioning c = ClassLabels.of(1).concat(ClassLabels.of(2));
                Tensor out = half.forward(x, t, c, Step.conditional(0, 1, 500, 2), ActivationProbe.NONE);
                assertEquals(2, out.size(0));
                assertTrue(out.isfinite().all().item_bool());
            }
        }
    }

    @Test
    void anIndexNamingAMissingShardIsRefusedNamingIt() throws IOException {
        Path dir = sharded(DType.BF16, Map.of());
        Files.delete(dir.resolve("diffusion_pytorch_model-00002-of-00002.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("diffusion_pytorch_model.safetensors.index.json"), e.getMessage());
        assertTrue(e.getMessage().contains("diffusion_pytorch_model-00002-of-00002.safetensors"), e.getMessage());
    }

    @Test
    void aShardWithATensorOfTheWrongShapeIsRefusedNamingTheShardAndTheKey() throws IOException {
        String key = "transformer_blocks.1.attn1.to_k.weight";
        Path dir = sharded(DType.BF16, Map.of(key, new long[] {32, 31}));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        assertTrue(e.getMessage().contains("-of-00002.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("[32, 31]"), e.getMessage());
    }

    @Test
    void aConfigThatDisagreesWithTheWeightsIsRefusedNamingConfigAndKey() throws IOException {
        Path dir = sharded(DType.BF16, Map.of());
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"num_layers\": *4", "\"num_layers\": 5"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        assertTrue(e.getMessage().contains("num_layers"), e.getMessage());
    }
}
