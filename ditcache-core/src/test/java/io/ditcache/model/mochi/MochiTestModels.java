package io.ditcache.model.mochi;

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

/** Tiny Mochi models with seeded random weights, and prompts for them. */
final class MochiTestModels {
    static final int TEXT = 16;
    static final int TOKENS = 6;

    private MochiTestModels() {
    }

    /** 3 blocks of 2 heads x 8, text stream 12 wide, T5 width 16, 4 channels, patch 2. */
    static MochiConfig tiny() {
        return new MochiConfig(2, 2, 8, 3, 12, 4, 4, TEXT, 8, TOKENS);
    }

    /** {@code config}'s model with every weight {@code 0.1 * randn} (norm weights {@code 1 + 0.1 * randn}). */
    static MochiModel random(MochiConfig config, long seed) {
        MochiModel model = new MochiModel(config);
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

    /**
     * One prompt: seeded text tokens with the last {@code padded} masked out, at a 2 x 8 x 8 latent, kept alive
     * past the caller's scopes.
     */
    static Condition prompt(long seed, int padded) {
        GeneratorOptional gen = new GeneratorOptional(torch.createCPUGenerator(seed));
        Tensor states = torch.randn(new long[] {1, TOKENS, TEXT}, gen, new TensorOptions(ScalarType.Float));
        Tensor mask = torch.ones(new long[] {1, TOKENS}, new TensorOptions(ScalarType.Bool));
        if (padded > 0) {
            mask.narrow(1, TOKENS - padded, padded).fill_(new Scalar(0));
        }
        states.retainReference();
        mask.retainReference();
        return new Condition(new TextEmbeddings(states, Optional.of(mask), Optional.empty(),
                Optional.of(new io.ditcache.model.LatentSize(2, 8, 8))), seed);
    }
}
