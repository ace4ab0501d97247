package io.ditcache.model.opensora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.TokenStream;
import io.ditcache.internal.Tensors;
import io.ditcache.model.ComputeType;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.PredictionType;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.policy.PolicyContract;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny random STDiT3 as a Denoiser: sampling with rflow, the cache contract, profiling, loading. */
class STDiT3DenoiserTest {
    private static final STDiT3Model MODEL = STDiT3TestModels.random(STDiT3TestModels.tiny(), 21);

    private static SamplingOptions options(int steps, LatentSize size) {
        return new SamplingOptions(List.of(STDiT3TestModels.prompt(1, 0, size), STDiT3TestModels.prompt(2, 2, size)),
                steps, 7.0);
    }

    @Test
    void samplingDefaultsAreOpenSora12s() {
        var d = MODEL.samplingDefaults();
        assertEquals("RFLOW", d.scheduler());
        assertEquals(30, d.steps());
        assertEquals(7.0, d.guidance());
        assertEquals(PredictionType.FLOW, MODEL.info().prediction());
        assertEquals(true, d.schedulerConfig().get("use_timestep_transform"));
        // one input_sq_size square frame (64 pixels in the tiny config): 8 x 8 latents in 2 x 2 patches
        assertEquals((64.0 / 8) * (64.0 / 8) / 4, ((Number) d.schedulerConfig().get("base_image_seq_len"))
                .doubleValue(), 0.0);
        assertEquals(3 * 2 * 2, MODEL.imageTokens(new long[] {4, 3, 4, 4}));
    }

    @Test
    void everyPolicyKeepsTheCacheContract() {
        PolicyContract.check(MODEL, "rflow", MODEL.samplingDefaults().schedulerConfig(), options(5, null));
    }

    /** Short sampling with the StreamingProfiler: every spatial and temporal layer has finite, moving cells. */
    @Test
    void profileHasSpatialAndTemporalLayersWithFiniteCells() {
        int steps = 4;
        RedundancyProfile p = Profiling.run(MODEL, "stdit3-tiny", Schedulers.create("rflow",
                MODEL.samplingDefaults().schedulerConfig()), options(steps, new LatentSize(2, 4, 6)), null);
        BlockLayout layout = MODEL.blockLayout();
        assertEquals(4, p.layers());
        assertEquals(MODEL.info().parameterCount(), ((Number) p.model().get("parameters")).longValue());
        int spatial = 0;
        int temporal = 0;
        for (SiteKind kind : List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT, SiteKind.MLP_OUT,
                SiteKind.BLOCK_OUT)) {
            for (Branch branch : List.of(Branch.COND, Branch.UNCOND)) {
                SeriesKey key = new SeriesKey(kind, TokenStream.IMAGE, branch, DistanceMetric.L1_MEAN);
                ProfileSeries s = p.series(key).orElseThrow(() -> new AssertionError("no series " + key));
                assertTrue(!s.hasNonFinite(), key + " is finite");
                assertEquals(steps - 1, s.steps(), key + ": a cell per pair of consecutive steps");
                for (int l = 0; l < p.layers(); l++) {
                    for (int step = 0; step < s.steps(); step++) {
                        assertEquals(2, s.count(l, step), key + " layer " + l + " step " + step);
                        double m = s.mean(l, step);
                        assertTrue(Double.isFinite(m) && m > 0, key + " layer " + l + " step " + step + ": " + m);
                    }
                    if (layout.block(l).group() == BlockGroup.SPATIAL) {
                        spatial++;
                    } else if (layout.block(l).group() == BlockGroup.TEMPORAL) {
                        temporal++;
                    }
                }
            }
        }
        assertTrue(spatial > 0 && spatial == temporal, spatial + " spatial, " + temporal + " temporal cells");
    }

    /** The FLOW prediction is the network's first channels negated, at the default and a given latent size. */
    @Test
    void forwardIsTheNegatedVelocityOfTheRawOutput() {
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            TextEmbeddings text = (TextEmbeddings) STDiT3TestModels.prompt(3, 1, null).conditioning();
            assertArrayEquals(new long[] {4, 3, 4, 4}, MODEL.latentShape(text));
            assertArrayEquals(new long[] {4, 2, 6, 8}, MODEL.latentShape(text.at(new LatentSize(2, 6, 8))));
            assertThrows(IllegalArgumentException.class, () -> MODEL.latentShape(text.at(new LatentSize(2, 5, 8))));
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(4));
            Tensor x = torch.randn(new long[] {1, 4, 3, 4, 4}, gen, new TensorOptions(ScalarType.Float));
            Tensor t = Tensors.fromFloats(new float[] {700f}, 1);
            Step step = Step.conditional(0, 1, 0, 1);
            Tensor pred = MODEL.forward(x, t, text, step, ActivationProbe.NONE);
            Tensor raw = MODEL.forward(x, t, text.hiddenStates(), text.mask().get(), null, 32, 32, step,
                    ActivationProbe.NONE);
            assertArrayEquals(new long[] {1, 8, 3, 4, 4}, Tensors.shape(raw));
            assertArrayEquals(Tensors.toFloats(raw.narrow(1, 0, 4).neg().contiguous()), Tensors.toFloats(pred));
            // fps and the pixel size (the position table's scale) are inputs of the network
            Tensor other = MODEL.forward(x, t, text.hiddenStates(), text.mask().get(),
                    Tensors.fromFloats(new float[] {8f}, 1), 64, 64, step, ActivationProbe.NONE);
            assertTrue(torch.max(other.sub(raw).abs()).item_float() > 1e-4);
            TextEmbeddings nul = (TextEmbeddings) MODEL.unconditional(text);
            assertArrayEquals(Tensors.toFloats(MODEL.stateDict().get(STDiT3Model.Y_EMBEDDING).narrow(0, 0,
                    STDiT3TestModels.TOKENS).contiguous()), Tensors.toFloats(nul.hiddenStates()));
            assertArrayEquals(Tensors.toFloats(text.mask().get().to(ScalarType.Float)),
                    Tensors.toFloats(nul.mask().get().to(ScalarType.Float)));
        }
    }

    /** Saved with its config.json and loaded by class name, float32 and bfloat16, it gives the same output. */
    @Test
    void loadsThroughTheRegisteredFamily(@TempDir Path dir) throws Exception {
        CheckpointWriter.save(MODEL, dir, Map.of());
        Denoiser f32 = ModelLoader.load(dir);
        Denoiser bf16 = ModelLoader.load(dir, ComputeType.BFLOAT16);
        assertTrue(f32 instanceof STDiT3Model);
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            for (Tensor w : bf16.stateDict().values()) {
                assertEquals(ScalarType.BFloat16, w.scalar_type().intern());
            }
            TextEmbeddings text = (TextEmbeddings) STDiT3TestModels.prompt(3, 1, null).conditioning();
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(4));
            Tensor x = torch.randn(new long[] {1, 4, 3, 4, 4}, gen, new TensorOptions(ScalarType.Float));
            Tensor t = Tensors.fromFloats(new float[] {500f}, 1);
            Step step = Step.conditional(0, 1, 0, 1);
            float[] want = Tensors.toFloats(MODEL.forward(x, t, text, step, ActivationProbe.NONE));
            assertArrayEquals(want, Tensors.toFloats(f32.forward(x, t, text, step, ActivationProbe.NONE)));
            Tensor half = bf16.forward(x, t, text, step, ActivationProbe.NONE);
            assertEquals(ScalarType.Float, half.scalar_type().intern());
            float[] got = Tensors.toFloats(half);
            double worst = 0;
            double scale = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
                scale = Math.max(scale, Math.abs(want[i]));
            }
            assertTrue(worst < 0.05 * scale && worst > 0, "bfloat16 error " + worst + " of " + scale);
        }
    }
}
