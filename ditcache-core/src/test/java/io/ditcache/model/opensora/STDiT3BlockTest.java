package io.ditcache.model.opensora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.ActivationProbe;
import io.ditcache.internal.Tensors;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * STDiT3's blocks against a float64 re-implementation in plain Java (no golden data exists for Open-Sora), and
 * the equivalences of its arrangement: a spatial block is a per-frame block, a temporal block's rotary embedding
 * leaves one frame as it is.
 */
class STDiT3BlockTest {
    private static final int B = 2;
    private static final int FRAMES = 3;
    private static final int PATCHES = 4;
    private static final int L = STDiT3TestModels.TOKENS;

    private static Tensor randn(GeneratorOptional gen, long... shape) {
        return torch.randn(shape, gen, new TensorOptions(ScalarType.Float));
    }

    private static double[][][] doubles3(Tensor t) {
        float[] f = Tensors.toFloats(t.contiguous());
        int a = (int) t.size(0);
        int b = (int) t.size(1);
        int c = (int) t.size(2);
        double[][][] out = new double[a][b][c];
        for (int i = 0; i < f.length; i++) {
            out[i / (b * c)][(i / c) % b][i % c] = f[i];
        }
        return out;
    }

    private static double[][] doubles2(Tensor t) {
        float[] f = Tensors.toFloats(t.contiguous());
        int a = (int) t.size(0);
        int b = (int) t.size(1);
        double[][] out = new double[a][b];
        for (int i = 0; i < f.length; i++) {
            out[i / b][i % b] = f[i];
        }
        return out;
    }

    /** Every block (spatial and temporal, qk_norm, masked caption) agrees with the float64 reference to 1e-5. */
    @Test
    void blocksMatchAFloat64Reimplementation() {
        STDiT3Config c = STDiT3TestModels.tiny();
        STDiT3Model model = STDiT3TestModels.random(c, 11);
        Map<String, Tensor> weights = model.stateDict();
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(5));
            Tensor x = randn(gen, B, FRAMES * PATCHES, c.hiddenSize());
            Tensor t6 = randn(gen, B, 6L * c.hiddenSize()).mul(new Scalar(0.5));
            Tensor y = randn(gen, B, L, c.hiddenSize());
            boolean[][] keep = {{true, true, true, true, true}, {true, true, true, false, false}};
            Tensor mask = Tensors.fromFloats(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, B, L).ne(new Scalar(0));
            Tensor freqs = weights.get("rope.freqs");
            // larger angles than the published frequencies, so the rotation matters at 3 frames
            Tensor fast = freqs.mul(new Scalar(7.0));
            STDiT3Block.Inputs in = new STDiT3Block.Inputs(FRAMES, PATCHES, t6, y, mask.view(B, 1, 1, L), fast);
            double[] f64freqs = new double[c.headDim() / 2];
            float[] ff = Tensors.toFloats(fast);
            for (int i = 0; i < ff.length; i++) {
                f64freqs[i] = ff[i];
            }
            double worst = 0;
            for (STDiT3Block block : model.blocks()) {
                String prefix = (block.temporal() ? "temporal_blocks." : "spatial_blocks.") + block.layer() / 2 + ".";
                Tensor got = block.forward(x, in, null, ActivationProbe.NONE, null, null, null, null);
                double[][][] want = new Float64Block(weights, prefix, c.hiddenSize(), c.numHeads(), block.temporal(),
                        c.qkNorm()).forward(doubles3(x), doubles2(t6), doubles3(y), keep, f64freqs, FRAMES, PATCHES);
                double[][][] g = doubles3(got);
                double change = 0;
                for (int r = 0; r < B; r++) {
                    for (int i = 0; i < FRAMES * PATCHES; i++) {
                        for (int k = 0; k < c.hiddenSize(); k++) {
                            worst = Math.max(worst, Math.abs(g[r][i][k] - want[r][i][k]));
                            change = Math.max(change, Math.abs(want[r][i][k] - doubles3(x)[r][i][k]));
                        }
                    }
                }
                assertTrue(change > 0.1, prefix + " changes its input");
            }
            assertTrue(worst < 1e-5, "max abs error " + worst);
        }
    }

    /** A spatial block over a video is the same block over each frame alone. */
    @Test
    void spatialBlockIsAPerFrameBlock() {
        STDiT3Config c = STDiT3TestModels.tiny();
        STDiT3Model model = STDiT3TestModels.random(c, 12);
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(6));
            Tensor x = randn(gen, B, FRAMES * PATCHES, c.hiddenSize());
            Tensor t6 = randn(gen, B, 6L * c.hiddenSize()).mul(new Scalar(0.5));
            Tensor y = randn(gen, B, L, c.hiddenSize());
            Tensor freqs = model.stateDict().get("rope.freqs");
            STDiT3Block spatial = model.blocks().get(0);
            Tensor whole = spatial.forward(x, new STDiT3Block.Inputs(FRAMES, PATCHES, t6, y, null, freqs), null,
                    ActivationProbe.NONE, null, null, null, null);
            TensorVector frames = new TensorVector();
            for (int f = 0; f < FRAMES; f++) {
                Tensor one = x.narrow(1, (long) f * PATCHES, PATCHES).contiguous();
                frames.push_back(spatial.forward(one, new STDiT3Block.Inputs(1, PATCHES, t6, y, null, freqs), null,
                        ActivationProbe.NONE, null, null, null, null));
            }
            float[] want = Tensors.toFloats(torch.cat(frames, 1));
            float[] got = Tensors.toFloats(whole);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6, "element " + i);
            }
        }
    }

    /** The rotary embedding leaves frame 0 as it is: at F = 1 a temporal block does not depend on it. */
    @Test
    void temporalRopeAtOneFrameIsIdentity() {
        STDiT3Config c = STDiT3TestModels.tiny();
        STDiT3Model model = STDiT3TestModels.random(c, 13);
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(7));
            Tensor q = randn(gen, 5, c.numHeads(), 1, c.headDim());
            Tensor freqs = model.stateDict().get("rope.freqs");
            assertArrayEquals(Tensors.toFloats(q), Tensors.toFloats(TemporalRope.rotate(q, freqs)));
            Tensor q3 = randn(gen, 5, c.numHeads(), 3, c.headDim());
            Tensor r3 = TemporalRope.rotate(q3, freqs);
            assertArrayEquals(Tensors.toFloats(q3.narrow(2, 0, 1).contiguous()),
                    Tensors.toFloats(r3.narrow(2, 0, 1).contiguous()));
            assertTrue(torch.max(r3.sub(q3).abs()).item_float() > 1e-3, "later frames are turned");

            Tensor x = randn(gen, B, PATCHES, c.hiddenSize());
            Tensor t6 = randn(gen, B, 6L * c.hiddenSize()).mul(new Scalar(0.5));
            Tensor y = randn(gen, B, L, c.hiddenSize());
            STDiT3Block temporal = model.blocks().get(1);
            Tensor with = temporal.forward(x, new STDiT3Block.Inputs(1, PATCHES, t6, y, null, freqs), null,
                    ActivationProbe.NONE, null, null, null, null);
            Tensor without = temporal.forward(x, new STDiT3Block.Inputs(1, PATCHES, t6, y, null,
                    freqs.mul(new Scalar(0.0))), null, ActivationProbe.NONE, null, null, null, null);
            assertArrayEquals(Tensors.toFloats(without), Tensors.toFloats(with));
        }
    }
}
