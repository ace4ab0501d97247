package io.ditcache.model.text;

import io.ditcache.model.ComputeType;
import io.ditcache.model.layers.RmsNorm;
import io.ditcache.model.layers.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * T5's encoder in transformers' {@code T5EncoderModel} layout, with transformers' state-dict keys
 * ({@code shared.weight}, {@code encoder.block.N.layer.*}, {@code encoder.final_layer_norm.weight}): the token
 * embedding (not scaled), blocks with a relative position bias from block 0's buckets (bidirectional, exact up to
 * a quarter of the buckets, log-spaced up to {@code relative_attention_max_distance}), RMS norms, and the final
 * norm. With an attention mask the padded keys are masked as transformers does; without one (the FLUX and SD3
 * pipelines) every token attends to every other.
 */
public final class T5Encoder extends Module implements TextEncoder {
    private final T5EncoderConfig config;
    private final ComputeType type;
    private final EmbeddingImpl shared;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module encoder;
    private final Module blockList;
    private final List<T5Block> blocks = new ArrayList<>();
    private final RmsNorm finalNorm;

    /** A model with initial weights in {@code type}; {@link TextEncoders#load} loads a checkpoint's into it. */
    T5Encoder(T5EncoderConfig config, ComputeType type) {
        this.config = config;
        this.type = type;
        shared = register_module("shared", new EmbeddingImpl(config.vocabSize(), config.dModel()));
        encoder = register_module("encoder", new Module());
        blockList = encoder.register_module("block", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(blockList.register_module(Integer.toString(i), new T5Block(config, i == 0)));
        }
        finalNorm = encoder.register_module("final_layer_norm", new RmsNorm(config.dModel(), config.eps()));
        eval();
    }

    /** The configuration the model was built from. */
    public T5EncoderConfig config() {
        return config;
    }

    @Override
    public String className() {
        return T5EncoderConfig.CLASS_NAME;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int maxLength() {
        return 0;
    }

    @Override
    public ComputeType computeType() {
        return type;
    }

    @Override
    public long parameterCount() {
        return TextEncoders.count(config.parameterShapes());
    }

    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.stateDict(this);
    }

    @Override
    public TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask) {
        Tensor ids = TokenIds.check(inputIds, attentionMask, config.vocabSize(), 0, className());
        long len = ids.size(1);
        Tensor x = shared.forward(ids);
        Tensor bias = positionBias(len);
        Tensor mask = TokenIds.additiveMask(attentionMask, len, false, type.scalarType());
        if (mask != null) {
            bias = bias.add(mask);
        }
        for (T5Block block : blocks) {
            x = block.forward(x, bias);
        }
        return new TextEncoderOutput(finalNorm.forward(x).to(ScalarType.Float), null, null, null);
    }

    /** The position bias {@code [1, heads, L, L]} in the compute dtype, from block 0's table. */
    Tensor positionBias(long len) {
        Tensor pos = torch.arange(new Scalar(len)).to(ScalarType.Long);
        Tensor relative = pos.view(1, len).sub(pos.view(len, 1)); // key position - query position
        Tensor buckets = buckets(relative, config.buckets(), config.maxDistance());
        Tensor values = blocks.get(0).relativeBias().forward(buckets); // [L, L, heads]
        return values.permute(2, 0, 1).unsqueeze(0);
    }

    /**
     * transformers' {@code _relative_position_bucket} for a bidirectional encoder, in the same float32 arithmetic:
     * half the buckets for keys after the query; of each half, the first half exact distances, the rest
     * log-spaced up to {@code maxDistance} (farther ones share the last bucket).
     */
    static Tensor buckets(Tensor relative, int numBuckets, int maxDistance) {
        long half = numBuckets / 2;
        Tensor out = relative.gt(new Scalar(0L)).to(ScalarType.Long).mul(new Scalar(half));
        Tensor n = relative.abs();
        long maxExact = half / 2;
        Tensor small = n.lt(new Scalar(maxExact));
        Tensor large = n.to(ScalarType.Float).div(new Scalar((double) maxExact)).log()
                .div(new Scalar(Math.log((double) maxDistance / maxExact)))
                .mul(new Scalar((double) (half - maxExact))).to(ScalarType.Long).add(new Scalar(maxExact));
        large = large.clamp(new ScalarOptional(), new ScalarOptional(new Scalar(half - 1)));
        return out.add(torch.where(small, n, large));
    }
}
