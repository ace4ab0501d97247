package io.ditcache.model.dit;

import java.util.Map;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Seeded weight initialisation, reproducible bit for bit: one CPU generator seeded once, parameters drawn in
 * diffusers' registration order ({@link DiTModel#stateDict()}).
 */
public final class DiTInit {
    private DiTInit() {
    }

    /**
     * The embedded default's recipe ("variance-preserving"): every 2-D weight {@code ~ N(0, 1/fan_in)}, class
     * embedding tables {@code ~ N(0, 1)}, patch kernel {@code ~ N(0, 1/(C*p*p))}, biases zero. Unlike the DiT
     * paper's adaLN-Zero initialisation this makes every block active, so a profile has structure to show.
     */
    public static void variancePreserving(DiTModel model, long seed) {
        Generator gen = torch.createCPUGenerator(seed);
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor p = e.getValue();
                String name = e.getKey();
                if (name.endsWith(".bias")) {
                    p.zero_();
                    continue;
                }
                double std = name.endsWith("embedding_table.weight") ? 1.0 : 1.0 / Math.sqrt(fanIn(p));
                long[] shape = io.ditcache.internal.Tensors.shape(p);
                Tensor draw = torch.randn(shape, new GeneratorOptional(gen), new TensorOptions(ScalarType.Float));
                p.copy_(draw.mul(new org.bytedeco.pytorch.Scalar(std)));
            }
        }
    }

    /**
     * The DiT paper's initialisation (Peebles and Xie, 2023): linear and patch weights Xavier-uniform, timestep
     * MLP and class table {@code N(0, 0.02)}, every adaLN modulation and the final projection zero, biases zero.
     * Each block starts as the identity, which is what lets a small DiT train quickly.
     */
    public static void paper(DiTModel model, long seed) {
        Generator gen = torch.createCPUGenerator(seed);
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor p = e.getValue();
                String name = e.getKey();
                long[] shape = io.ditcache.internal.Tensors.shape(p);
                boolean zero = name.endsWith(".bias") || name.contains("norm1.linear.") || name.startsWith("proj_out_");
                if (zero) {
                    p.zero_();
                } else if (name.contains("timestep_embedder") || name.endsWith("embedding_table.weight")) {
                    p.copy_(torch.randn(shape, new GeneratorOptional(gen), new TensorOptions(ScalarType.Float))
                            .mul(new org.bytedeco.pytorch.Scalar(0.02)));
                } else {
                    double a = Math.sqrt(6.0 / (fanIn(p) + p.size(0)));
                    Tensor u = torch.rand(shape, new GeneratorOptional(gen), new TensorOptions(ScalarType.Float));
                    p.copy_(u.mul(new org.bytedeco.pytorch.Scalar(2 * a)).sub(new org.bytedeco.pytorch.Scalar(a)));
                }
            }
        }
    }

    private static long fanIn(Tensor p) {
        long f = 1;
        for (int i = 1; i < p.dim(); i++) {
            f *= p.size(i);
        }
        return f;
    }
}
