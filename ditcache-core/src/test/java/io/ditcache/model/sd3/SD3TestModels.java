package io.ditcache.model.sd3;

import io.ditcache.model.TextEmbeddings;
import io.ditcache.sample.Condition;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Tiny SD3 models with seeded random weights, and prompts for them. */
final class SD3TestModels {
    static final int JOINT = 16;
    static final int POOLED = 8;
    static final int TOKENS = 5;

    private SD3TestModels() {
    }

    /** 3 blocks of 2 heads x 8 at an 8 x 8 latent, patch 2, a 6 x 6 position table. */
    static SD3Config tiny(boolean qkRmsNorm, List<Integer> dual) {
        return new SD3Config(8, 2, 4, 4, 3, 2, 8, JOINT, 16, POOLED, 6, qkRmsNorm, dual);
    }

    /** {@code config}'s model with every weight {@code 0.1 * randn} (norm weights {@code 1 + 0.1 * randn}). */
    static SD3Model random(SD3Config config, long seed) {
        SD3Model model = new SD3Model(config);
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor t = e.getValue();
                Tensor r = torch.randn(io.ditcache.internal.Tensors.shape(t), gen, new TensorOptions(ScalarType.Float))
                        .mul(new Scalar(0.1));
                t.copy_(e.getKey().contains(".norm_") ? r.add(new Scalar(1.0)) : r);
            }
        }
        return model;
    }

    /** One prompt: seeded text tokens and pooled vector, kept alive past the caller's scopes. */
    static Condition prompt(long seed) {
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        Tensor states = torch.randn(new long[] {1, TOKENS, JOINT}, gen, new TensorOptions(ScalarType.Float));
        Tensor pooled = torch.randn(new long[] {1, POOLED}, gen, new TensorOptions(ScalarType.Float));
        states.retainReference();
        pooled.retainReference();
        return new Condition(new TextEmbeddings(states, Optional.empty(), Optional.of(pooled), Optional.empty()),
                seed);
    }
}
