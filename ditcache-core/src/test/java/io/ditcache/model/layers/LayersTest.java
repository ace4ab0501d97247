package io.ditcache.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ditcache.internal.Tensors;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The shared layers against float64 recomputations of diffusers' definitions. */
class LayersTest {
    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void sinusoidIsDiffusersTimestepEmbedding() {
        try (PointerScope scope = new PointerScope()) {
            double[] ts = {0, 1, 137, 999.5};
            float[] tf = new float[ts.length];
            for (int i = 0; i < ts.length; i++) {
                tf[i] = (float) ts[i];
            }
            for (double shift : new double[] {0, 1}) {
                for (boolean flip : new boolean[] {true, false}) {
                    int channels = 9;
                    float[] got = Tensors.toFloats(Timesteps.sinusoid(Tensors.fromFloats(tf, ts.length), channels,
                            flip, shift, 1.0));
                    int half = channels / 2;
                    for (int r = 0; r < ts.length; r++) {
                        for (int j = 0; j < half; j++) {
                            double arg = ts[r] * Math.exp(-Math.log(10000) * j / (half - shift));
                            double first = flip ? Math.cos(arg) : Math.sin(arg);
                            double second = flip ? Math.sin(arg) : Math.cos(arg);
                            assertEquals(first, got[r * channels + j], 2e-4 * Math.max(1, Math.abs(arg) / 100));
                            assertEquals(second, got[r * channels + half + j],
                                    2e-4 * Math.max(1, Math.abs(arg) / 100));
                        }
                        assertEquals(0f, got[r * channels + channels - 1], "odd channel count pads a zero");
                    }
                }
            }
        }
    }

    @Test
    void rmsNormScalesByRootMeanSquareAndWeight() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            RmsNorm norm = new RmsNorm(6, 1e-6);
            float[] w = random(6, 2);
            Weights.stateDict(norm).get("weight").copy_(Tensors.fromFloats(w, 6));
            float[] x = random(12, 3);
            float[] got = Tensors.toFloats(norm.forward(Tensors.fromFloats(x, 2, 6)));
            for (int r = 0; r < 2; r++) {
                double ms = 0;
                for (int j = 0; j < 6; j++) {
                    ms += (double) x[r * 6 + j] * x[r * 6 + j] / 6;
                }
                for (int j = 0; j < 6; j++) {
                    assertEquals(x[r * 6 + j] / Math.sqrt(ms + 1e-6) * w[j], got[r * 6 + j], 1e-5);
                }
            }
        }
    }

    @Test
    void continuousNormTakesScaleBeforeShift() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            AdaLayerNormContinuous n = new AdaLayerNormContinuous(4, 3);
            var sd = Weights.stateDict(n);
            sd.get("linear.weight").zero_();
            // bias: scale = 1 (first chunk), shift = 5 (second chunk)
            sd.get("linear.bias").copy_(Tensors.fromFloats(new float[] {1, 1, 1, 1, 5, 5, 5, 5}, 8));
            float[] x = {1, 2, 3, 4};
            float[] got = Tensors.toFloats(n.forward(Tensors.fromFloats(x, 1, 1, 4), torch.zeros(1, 3)));
            double mean = 2.5;
            double sd2 = Math.sqrt(1.25 + 1e-6);
            for (int j = 0; j < 4; j++) {
                assertEquals((x[j] - mean) / sd2 * 2 + 5, got[j], 1e-5);
            }
        }
    }

    @Test
    void attentionWithABoolMaskIgnoresMaskedKeys() {
        try (PointerScope scope = new PointerScope()) {
            int heads = 2;
            int d = 3;
            int s = 2;
            int l = 4;
            float[] q = random(s * heads * d, 4);
            float[] k = random(l * heads * d, 5);
            float[] v = random(l * heads * d, 6);
            boolean[] keep = {true, false, true, true};
            Tensor mask = Tensors.fromFloats(new float[] {1, 0, 1, 1}, 1, 1, 1, l).to(
                    org.bytedeco.pytorch.global.torch.ScalarType.Bool);
            float[] got = Tensors.toFloats(Attention.sdpa(Tensors.fromFloats(q, 1, s, heads * d),
                    Tensors.fromFloats(k, 1, l, heads * d), Tensors.fromFloats(v, 1, l, heads * d), heads, mask));
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < s; i++) {
                    double[] w = new double[l];
                    double z = 0;
                    for (int j = 0; j < l; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) {
                            dot += (double) q[i * heads * d + h * d + c] * k[j * heads * d + h * d + c];
                        }
                        w[j] = keep[j] ? Math.exp(dot / Math.sqrt(d)) : 0;
                        z += w[j];
                    }
                    for (int c = 0; c < d; c++) {
                        double o = 0;
                        for (int j = 0; j < l; j++) {
                            o += w[j] / z * v[j * heads * d + h * d + c];
                        }
                        assertEquals(o, got[i * heads * d + h * d + c], 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void modulesBuiltForBfloat16HoldBfloat16ParametersAndTheDefaultDtypeIsRestored() {
        try (PointerScope scope = new PointerScope()) {
            FeedForward ff = Weights.build(org.bytedeco.pytorch.global.torch.ScalarType.BFloat16,
                    () -> new FeedForward(4, 8, 4, "gelu"));
            for (Tensor p : Weights.stateDict(ff).values()) {
                assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.BFloat16, p.scalar_type().intern());
            }
            assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.Float,
                    torch.get_default_dtype_as_scalartype().intern());
            assertThrows(IllegalArgumentException.class, () -> Weights.build(
                    org.bytedeco.pytorch.global.torch.ScalarType.Half, () -> new FeedForward(4, 8, 4, "relu")));
            assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.Float,
                    torch.get_default_dtype_as_scalartype().intern(), "restored after a failed construction");
        }
    }

    @Test
    void unknownActivationsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FeedForward(4, 8, 4, "relu"));
        assertEquals("activation \"relu\", expected one of gelu-approximate, gelu_tanh, gelu, silu", e.getMessage());
    }
}
