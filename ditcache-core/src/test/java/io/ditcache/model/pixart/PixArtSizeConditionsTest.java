package io.ditcache.model.pixart;

import io.ditcache.model.layers.AdaLayerNormSingle;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.layers.Timesteps;
import io.ditcache.model.layers.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PixArt-XL-2-1024-MS's additional conditions ({@code use_additional_conditions}): the timestep embedding adds the
 * resolution's and the aspect ratio's embeddings as diffusers' {@code PixArtAlphaCombinedTimestepSizeEmbeddings}
 * does, and the denoiser passes the image's pixel size (8 per latent element) as diffusers' pipeline does.
 */
class PixArtSizeConditionsTest {
    static final int CAPTION = 10;

    static PixArtModel tinyWithSizes() {
        // inner dim 24: the resolution and aspect-ratio embeddings are 8 wide each
        PixArtModel model = new PixArtModel(new PixArtConfig(8, 2, 4, 8, 2, 3, 8, 24, CAPTION, 1e-6, true, true,
                1, 1000));
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(21));
        try (NoGradGuard guard = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (Tensor p : Weights.stateDict(model).values()) {
                p.copy_(torch.randn(Tensors.shape(p), gen, new TensorOptions(ScalarType.Float))
                        .mul(new Scalar(0.2)));
            }
        }
        return model;
    }

    /** diffusers' {@code TimestepEmbedding} from the weights under {@code prefix}, on sinusoidal features of v. */
    static Tensor embedder(Map<String, Tensor> w, String prefix, Tensor v) {
        Tensor f = Timesteps.sinusoid(v, 256, true, 0, 1);
        Tensor h = torch.silu(f.matmul(w.get(prefix + "linear_1.weight").t()).add(w.get(prefix + "linear_1.bias")));
        return h.matmul(w.get(prefix + "linear_2.weight").t()).add(w.get(prefix + "linear_2.bias"));
    }

    @Test
    void theSizeEmbeddingsAreAddedAsInDiffusers() {
        PixArtModel model = tinyWithSizes();
        Map<String, Tensor> w = model.stateDict();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.fromLongs(new long[] {999, 3}, 2);
            Tensor res = Tensors.fromFloats(new float[] {1024, 768, 512, 512}, 2, 2);
            Tensor ar = Tensors.fromFloats(new float[] {1024f / 768, 1}, 2, 1);
            String e = "adaln_single.emb.";
            // resolution.flatten() -> [2N] features -> [2N, d/3] -> reshape [N, 2d/3]: each row (height, width)
            Tensor r = embedder(w, e + "resolution_embedder.", res.flatten()).reshape(2, -1);
            Tensor a = embedder(w, e + "aspect_ratio_embedder.", ar.flatten());
            Tensor want = embedder(w, e + "timestep_embedder.", t).add(torch.cat(new TensorVector(r, a), 1));
            AdaLayerNormSingle.Conditioning got = model.adaln().forward(t, res, ar);
            assertArrayEquals(Tensors.toFloats(want), Tensors.toFloats(got.embedded()), 1e-6f);
            Tensor t6 = torch.silu(want).matmul(w.get("adaln_single.linear.weight").t())
                    .add(w.get("adaln_single.linear.bias"));
            assertArrayEquals(Tensors.toFloats(t6), Tensors.toFloats(got.t6()), 1e-5f);
        }
    }

    @Test
    void theDenoiserPassesTheImagesPixelSize(@TempDir Path dir) throws Exception {
        PixArtModel model = tinyWithSizes();
        try (PointerScope scope = new PointerScope()) {
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(4));
            Tensor x = torch.randn(new long[] {1, 4, 6, 10}, gen, new TensorOptions(ScalarType.Float));
            Tensor text = torch.randn(new long[] {1, 3, CAPTION}, gen, new TensorOptions(ScalarType.Float));
            Tensor t = Tensors.fromLongs(new long[] {400}, 1);
            Tensor own = model.forward(x, t, text, null, Step.conditional(0, 1, 400, 1), ActivationProbe.NONE);
            // the pipeline: resolution [height, width] in pixels, aspect_ratio height / width
            assertArrayEquals(Tensors.toFloats(own), Tensors.toFloats(named(model, dir.resolve("a"), x, t, text,
                    new float[] {48, 80}, new float[] {0.6f})), 0f);
            Tensor other = named(model, dir.resolve("b"), x, t, text, new float[] {1024, 1024}, new float[] {1});
            assertTrue(PixArtGoldenTest.maxAbsDiff(Tensors.toFloats(own), Tensors.toFloats(other)) > 1e-4,
                    "the size conditions reach the output");
        }
    }

    private static Tensor named(PixArtModel model, Path file, Tensor x, Tensor t, Tensor text, float[] resolution,
            float[] aspectRatio) throws Exception {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("hidden_states", x);
        in.put("encoder_hidden_states", text);
        in.put("timestep", t);
        in.put("resolution", Tensors.fromFloats(resolution, 1, 2));
        in.put("aspect_ratio", Tensors.fromFloats(aspectRatio, 1, 1));
        SafetensorsWriter.write(file, in, Map.of("format", "pt"));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return model.forward(f, null, ActivationProbe.NONE);
        }
    }
}
