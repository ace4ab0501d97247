package io.ditcache.model.opensora;

import io.ditcache.model.LatentSize;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.sample.Condition;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Tiny STDiT3 models with seeded random weights, and prompts for them. */
final class STDiT3TestModels {
    static final int CAPTION = 16;
    static final int TOKENS = 5;

    private STDiT3TestModels() {
    }

    /** 2 spatial + 2 temporal blocks of 2 heads x 16 at a 3 x 4 x 4 latent, patch 1 x 2 x 2, caption width 16. */
    static STDiT3Config tiny() {
        return new STDiT3Config(new long[] {3, 4, 4}, 64, 4, new int[] {1, 2, 2}, 32, 2, 2, 2.0, true, CAPTION, 6,
                true, 0.1);
    }

    /**
     * {@code config}'s model with every weight and the null caption {@code 0.1 * randn} (norm weights
     * {@code 1 + 0.1 * randn}); {@code rope.freqs} keep their published values.
     */
    static STDiT3Model random(STDiT3Config config, long seed) {
        STDiT3Model model = new STDiT3Model(config);
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                if (e.getKey().equals("rope.freqs")) {
                    continue;
                }
                Tensor t = e.getValue();
                Tensor r = torch.randn(io.ditcache.internal.Tensors.shape(t), gen,
                        new TensorOptions(ScalarType.Float)).mul(new Scalar(0.1));
                t.copy_(e.getKey().contains("_norm.") ? r.add(new Scalar(1.0)) : r);
            }
        }
        return model;
    }

    /** One prompt of {@link #TOKENS} tokens, the last {@code dropped} masked out, kept past the caller's scopes. */
    static Condition prompt(long seed, int dropped, LatentSize size) {
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        Tensor states = torch.randn(new long[] {1, TOKENS, CAPTION}, gen, new TensorOptions(ScalarType.Float));
        Tensor mask = torch.ones(new long[] {1, TOKENS}, new TensorOptions(ScalarType.Long));
        if (dropped > 0) {
            mask.narrow(1, TOKENS - dropped, dropped).zero_();
        }
        states.retainReference();
        mask.retainReference();
        return new Condition(new TextEmbeddings(states, Optional.of(mask), Optional.empty(),
                Optional.ofNullable(size)), seed);
    }
}
